import type Database from 'better-sqlite3';
import { HEADERS } from '@mrw/contracts';
import type { RecordedEvent } from '@mrw/event-store';
import { DEAD_LETTER_REDRIVEN, DEAD_LETTERED, type DeadLetter } from '@mrw/messaging';

/** Every dead letter of every consumer group, and whether someone redrove it: the DLQ as an admin sees it. */
export class DeadLettersProjection {
  private readonly insert;
  private readonly redriven;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO dead_letters (letter_id, position, group_name, topic, key, type, reason, attempts, origin, truncated, size, dead_lettered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.redriven = db.prepare(`UPDATE dead_letters SET redriven_at = ?, redriven_by = ? WHERE letter_id = ?`);
  }

  apply(event: RecordedEvent): void {
    if (!event.streamName.startsWith('deadLetter-')) return;
    if (event.type === DEAD_LETTERED) {
      const letter = event.data as DeadLetter;
      const type = letter.headers[HEADERS.eventType] ?? letter.headers[HEADERS.commandType] ?? typeInValue(letter.value);
      this.insert.run(
        letter.letterId,
        event.position,
        letter.group,
        letter.topic,
        letter.key,
        type,
        letter.reason,
        letter.attempts,
        letter.origin,
        letter.truncated ? 1 : 0,
        letter.size,
        event.metadata.occurredAt,
      );
    } else if (event.type === DEAD_LETTER_REDRIVEN) {
      const { letterId } = event.data as { letterId: string };
      this.redriven.run(event.metadata.occurredAt, `${event.metadata.actor.kind}:${event.metadata.actor.id}`, letterId);
    }
  }
}

const typeInValue = (value: string): string => {
  try {
    const body = JSON.parse(value) as { type?: unknown };
    return typeof body.type === 'string' ? body.type.slice(0, 100) : 'unknown';
  } catch {
    return 'unknown';
  }
};
