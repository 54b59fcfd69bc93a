import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { TOPICS } from '@mrw/contracts';
import { SqliteEventStore } from '@mrw/event-store';
import { decodeEvent, EmbeddedMessageBus, KafkaMessageBus, type MessageBus } from '@mrw/messaging';
import { loadConfig, Metrics, Readiness } from '@mrw/platform';
import { LogForwarder } from '@mrw/registry';
import { reachable } from './reachable';
import { benchEvent, line, ms, percentile, section } from './report';

interface Pipeline {
  store: SqliteEventStore;
  received: number[];
  stop(): Promise<void>;
}

/** Append → (forwarder → Kafka →) consumer group; latency measured from the append. */
const pipeline = async (dir: string, name: string, brokers: string | undefined): Promise<Pipeline> => {
  const store = new SqliteEventStore({ file: join(dir, `${name}.sqlite`) });
  const namespace = `bench${randomUUID().slice(0, 8)}.`;
  const config = loadConfig({
    MRW_DATA_DIR: dir,
    MRW_BUS: brokers ? 'kafka' : 'embedded',
    // Distributed mode needs the shared server secret; any 32+ characters do for a benchmark.
    ...(brokers ? { KAFKA_BROKERS: brokers, KAFKA_NAMESPACE: namespace, MRW_SECRET_KEY: randomUUID() + randomUUID() } : {}),
  });
  const bus: MessageBus = brokers
    ? new KafkaMessageBus({ brokers: [brokers], clientId: 'mrw-bench', namespace })
    : new EmbeddedMessageBus(store);
  const forwarder = new LogForwarder(store, bus, config, new Metrics(), new Readiness());
  await forwarder.onApplicationBootstrap();
  const received: number[] = [];
  const consumer = await bus.consume({
    groupId: 'bench',
    topic: TOPICS.events,
    handler: async (message) => {
      received.push(Date.now() - Date.parse(decodeEvent(message).metadata.occurredAt));
    },
  });
  // Warm up: the group has joined once the first event arrives.
  await store.appendToStream('modelVersion-warmup@1', [benchEvent(0)], { expectedRevision: 'any' });
  while (received.length === 0) await new Promise((r) => setTimeout(r, 20));
  received.length = 0;
  return {
    store,
    received,
    stop: async () => {
      await consumer.stop();
      await forwarder.onApplicationShutdown();
      await bus.close();
      await store.close();
    },
  };
};

const waitFor = async (received: number[], count: number, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (received.length < count) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
};

const measure = async (label: string, p: Pipeline): Promise<void> => {
  // Throughput: 2,000 events appended as fast as the store takes them, until all delivered:
  // by one writer (each append awaited), and by 50 writers at once (as concurrent requests append).
  const burst = 2_000;
  for (const writers of [1, 50]) {
    const start = performance.now();
    for (let i = 0; i < burst; i += writers) {
      await Promise.all(
        Array.from({ length: writers }, (_, k) => p.store.appendToStream(`modelVersion-bench@${(i + k) % 50}`, [benchEvent(i + k)], { expectedRevision: 'any' })),
      );
    }
    const delivered = await waitFor(p.received, burst, 120_000);
    const elapsed = performance.now() - start;
    line(
      `${label}: append → delivered, 2,000 events, ${writers === 1 ? 'one writer' : `${writers} writers`}`,
      delivered ? `${Math.round((burst / elapsed) * 1000).toLocaleString('en-US')} events/s` : 'TIMED OUT',
    );
    p.received.length = 0;
  }

  // Latency at a steady 100 events/s for 10 s.
  const rate = 100;
  const total = rate * 10;
  const steadyStart = performance.now();
  for (let i = 0; i < total; i += 1) {
    const due = steadyStart + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await p.store.appendToStream(`modelVersion-steady@${i % 50}`, [benchEvent(i)], { expectedRevision: 'any' });
  }
  await waitFor(p.received, total, 60_000);
  const sorted = [...p.received].sort((a, b) => a - b);
  line(`${label}: latency at ${rate} events/s`, `p50 ${ms(percentile(sorted, 50))}  p99 ${ms(percentile(sorted, 99))}  (${sorted.length} events)`);
};

/** Events from append to a consumer group: over Kafka (through the log forwarder) and on the embedded bus. */
export const benchBus = async (dir: string): Promise<void> => {
  section('Event delivery: append → consumer group (one process; the forwarder publishes each event with acks=all)');
  const embedded = await pipeline(dir, 'embedded', undefined);
  await measure('embedded bus', embedded);
  await embedded.stop();
  const brokers = process.env['KAFKA_BROKERS']?.split(',')[0] ?? '127.0.0.1:9092';
  if (!(await reachable(brokers))) {
    line('Kafka', `SKIPPED: no broker at ${brokers} (npm run infra:up, or set KAFKA_BROKERS)`);
    return;
  }
  const kafka = await pipeline(dir, 'kafka', brokers);
  await measure(`Kafka (${brokers})`, kafka);
  await kafka.stop();
};
