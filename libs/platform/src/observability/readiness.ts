import { Injectable } from '@nestjs/common';

/** A part of the process that must be ready before it takes traffic. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<{ ready: boolean; detail?: string }>;
}

@Injectable()
export class Readiness {
  private readonly checks: ReadinessCheck[] = [];

  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  async report(): Promise<{ ready: boolean; checks: Array<{ name: string; ready: boolean; detail?: string }> }> {
    const checks = await Promise.all(
      this.checks.map(async (c) => {
        try {
          return { name: c.name, ...(await c.check()) };
        } catch (error) {
          return { name: c.name, ready: false, detail: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    return { ready: checks.every((c) => c.ready), checks };
  }
}
