import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A fresh id for a command or an event: a time-ordered UUID (version 7, RFC 9562), unique like
 * a random one, but ids made close in time sort close together. Event ids are a unique index of
 * the event log: random ids put each append's index entries on random pages (~3x the pages
 * written per batch), time-ordered ones at the index's end.
 */
export const newId = (): string => uuidv7();

export const isUuid = (value: string): boolean => UUID_PATTERN.test(value);

/** A token's subject, the person or service it names: what `actor.id` holds and the people directory is keyed by. */
export const SUBJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/**
 * A deterministic UUID (version 8, RFC 9562) derived from a seed and a label. Replaying a
 * command derives the same ids, so its events and side effects deduplicate.
 */
export const deriveId = (seed: string, label = ''): string => {
  const hex = createHash('sha256').update(`${seed}\u0000${label}`).digest('hex');
  const variant = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};
