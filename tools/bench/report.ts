import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { newId } from '@mrw/contracts';
import type { EventToAppend } from '@mrw/event-store';
/** Prints benchmark figures as aligned lines a person can read and paste into the README. */
export const line = (label: string, value: string): void => {
  process.stdout.write(`  ${label.padEnd(58)} ${value}\n`);
};

/** The machine the figures came from: `2 × AMD EPYC, 24 GiB, Node v20.20.2`. */
export const machine = (): string =>
  `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`;

export const section = (title: string): void => {
  process.stdout.write(`\n${title}\n${'-'.repeat(title.length)}\n`);
};

export const rate = (count: number, ms: number, unit: string): string =>
  `${Math.round((count / ms) * 1000).toLocaleString('en-US')} ${unit}/s`;

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

export const ms = (value: number): string => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

/** A small, realistic event to append in benchmarks. */
/**
 * A small event as the registry appends them. Its id is time-ordered like the ids the suite
 * makes (`newId`), or random like the ids derived from a client's idempotency key.
 */
export const benchEvent = (i: number, ids: 'time-ordered' | 'random' = 'time-ordered'): EventToAppend => ({
  type: 'ModelVersionTagSet',
  data: { key: `k${i % 50}`, value: `value-${i}` },
  metadata: {
    eventId: ids === 'random' ? randomUUID() : newId(),
    occurredAt: new Date().toISOString(),
    actor: { kind: 'user', id: 'bench' },
    correlationId: randomUUID(),
    causationId: null,
    schemaVersion: 1,
  },
});
