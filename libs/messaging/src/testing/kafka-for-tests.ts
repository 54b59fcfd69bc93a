import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';

/** The broker tests may use (see tools/jest/global-setup.js), or undefined. */
export const testBrokers = (): string[] | undefined => process.env['KAFKA_BROKERS']?.split(',').map((b) => b.trim());

export const KAFKA_SKIP_REASON =
  'SKIPPED: no Kafka broker (set KAFKA_BROKERS, or run `npm run infra:up` to start one on 127.0.0.1:9092)';

/**
 * `describe` when a broker is there; otherwise `describe.skip` with the reason in the title,
 * and a warning printed, so a missing broker is never a silent pass.
 */
export const describeWithKafka = (title: string, body: (brokers: string[]) => void): void => {
  const brokers = testBrokers();
  if (brokers) {
    describe(title, () => body(brokers));
    return;
  }
  console.warn(`${title} — ${KAFKA_SKIP_REASON}`);
  describe.skip(`${title} — ${KAFKA_SKIP_REASON}`, () => body([]));
};

/** A fresh namespace per test, so topics and groups never see another test's messages. */
export const uniqueNamespace = (): string => `test${randomBytes(4).toString('hex')}.`;

export const adminFor = (brokers: string[]): Kafka =>
  new Kafka({ clientId: 'mrw-tests', brokers, logLevel: logLevel.NOTHING });

/** Polls `predicate` until it holds: for conditions the test cannot be told about directly. */
export const eventually = async <T>(
  predicate: () => Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

export const withAdmin = async <T>(brokers: string[], work: (admin: Admin) => Promise<T>): Promise<T> => {
  const admin = adminFor(brokers).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
};
