import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/**
 * Work to finish before the modules stop, in the order it was added: a suite served by several
 * processes stops dealing connections and stops its readers here, while it still answers what
 * they pass on.
 */
@Injectable()
export class BeforeShutdown implements BeforeApplicationShutdown {
  private readonly tasks: Array<() => Promise<void>> = [];

  add(task: () => Promise<void>): void {
    this.tasks.push(task);
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const task of this.tasks) await task();
  }
}
