import type { EventStore } from '@mrw/event-store';
import type { ConsumerOptions, MessageBus, RunningConsumer } from '@mrw/messaging';
import { Readiness, type SuiteConfig } from '@mrw/platform';
import { DeadLetterIndexer } from './dead-letter-indexer';

/** A bus whose first `failures` starts fail as a broker does right after creating topics. */
const flakyBus = (failures: number) => {
  let calls = 0;
  const consumers: ConsumerOptions[] = [];
  const stopped: string[] = [];
  const bus = {
    ensureTopics: async () => undefined,
    consume: async (options: ConsumerOptions): Promise<RunningConsumer> => {
      calls += 1;
      // The second DLQ consumer of an attempt fails, so a partial start has something to undo.
      if (calls <= failures * 2 && calls % 2 === 0) throw new Error('This server does not host this topic-partition');
      consumers.push(options);
      return { stop: async () => void stopped.push(options.groupId) };
    },
  } as unknown as MessageBus;
  return { bus, consumers, stopped };
};

const until = async (condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('DeadLetterIndexer', () => {
  it('tries its start again after a failure instead of staying unready for good', async () => {
    const { bus, consumers, stopped } = flakyBus(2);
    const readiness = new Readiness();
    const indexer = new DeadLetterIndexer({} as EventStore, bus, { bus: 'kafka' } as SuiteConfig, readiness);
    indexer.onApplicationBootstrap();
    const report = async () => (await readiness.report()).checks.find((c) => c.name === 'dead-letter-index');
    await until(async () => (await report())?.detail?.includes('does not host') === true);
    expect((await report())?.ready).toBe(false);
    await until(async () => (await report())?.ready === true);
    // Two failed attempts each started one consumer and stopped it again; the third started all three.
    expect(stopped).toHaveLength(2);
    expect(consumers.length - stopped.length).toBe(3);
    await indexer.onApplicationShutdown();
  });

  it('stops trying when the application shuts down', async () => {
    const { bus } = flakyBus(1_000);
    const indexer = new DeadLetterIndexer({} as EventStore, bus, { bus: 'kafka' } as SuiteConfig, new Readiness());
    indexer.onApplicationBootstrap();
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await indexer.onApplicationShutdown();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
