import { Inject, Injectable } from '@nestjs/common';
import {
  deriveId,
  SCHEMA_VERSION,
  type CommandMetadata,
  type DomainEvent,
} from '@mrw/contracts';
import type { Result, Timed } from '@mrw/domain';
import {
  DuplicateEventIdError,
  EVENT_STORE,
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '@mrw/event-store';
import { KeyedMutex, Metrics, ProblemException, problemFromDomainError, problemFromStoreError } from '@mrw/platform';

/** A pure aggregate: what the executor needs to load, decide and append. */
export interface Decider<State, Command, Event extends DomainEvent> {
  initialState(): State;
  evolve(state: State, event: Timed<Event>): State;
  decide(command: Command, state: State): Result<Event[]>;
}

export interface Executed<State> {
  readonly state: State;
  /** Events this command appended (or had appended, on a replay). */
  readonly events: readonly RecordedEvent[];
  /** Position to wait for before reading projections; undefined when nothing was appended. */
  readonly position: bigint | undefined;
  /** True when the command id had already been applied: nothing new was appended. */
  readonly replayed: boolean;
}

const MAX_ATTEMPTS = 8;
/** Streams whose events and folded state stay in memory between commands. */
const CACHED_STREAMS = 2_000;

interface CachedStream {
  readonly events: RecordedEvent[];
  state: unknown;
}

/** Event `index` of a command: the first reuses the command id, the rest derive from it. */
export const eventIdFor = (commandId: string, index: number): string =>
  index === 0 ? commandId : deriveId(commandId, `event-${index}`);

export const toTimed = <E>(event: RecordedEvent): Timed<E> =>
  ({ type: event.type, data: event.data, at: event.metadata.occurredAt }) as unknown as Timed<E>;

/**
 * Load → fold → decide → append with the expected revision, retrying on conflict with fresh
 * state. A command whose id is already in the stream is a replay: it appends nothing and
 * returns the state, so clients may retry with the same Idempotency-Key.
 */
@Injectable()
export class CommandExecutor {
  private readonly locks = new KeyedMutex();
  /**
   * Hot streams (a model's stream grows with every registered version) are not re-read and
   * re-folded per command: only events after the cached revision are read, so another
   * process's appends are still seen. Least recently used streams are dropped first.
   */
  private readonly cache = new Map<string, CachedStream>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly metrics: Metrics,
  ) {}

  async execute<State, Command extends { metadata: CommandMetadata }, Event extends DomainEvent>(
    streamName: string,
    decider: Decider<State, Command, Event>,
    command: Command,
  ): Promise<Executed<State>> {
    return this.locks
      .run(streamName, () => this.decideAndAppend(streamName, decider, command))
      .catch((error: unknown) => {
        // Event ids derive from command ids: a clash means the key was spent on another stream.
        if (error instanceof DuplicateEventIdError) throw keyReused();
        throw problemFromStoreError(error) ?? error;
      });
  }

  private async decideAndAppend<State, Command extends { metadata: CommandMetadata }, Event extends DomainEvent>(
    streamName: string,
    decider: Decider<State, Command, Event>,
    command: Command,
  ): Promise<Executed<State>> {
    for (let attempt = 1; ; attempt += 1) {
      const { events: stored, state } = await this.load(streamName, decider);
      const replay = eventsOf(stored, command.metadata.commandId);
      if (replay.length > 0) {
        assertSameRequest(replay[0] as RecordedEvent, command.metadata);
        return { state, events: replay, position: replay[replay.length - 1]?.position, replayed: true };
      }
      const decision = decider.decide(command, state);
      if (!decision.ok) throw problemFromDomainError(decision.error);
      if (decision.value.length === 0) return { state, events: [], position: undefined, replayed: false };
      const toAppend = decision.value.map((event, index) => envelope(event, command.metadata, index));
      const last = stored[stored.length - 1];
      try {
        await this.store.appendToStream(streamName, toAppend, {
          expectedRevision: last ? last.revision : 'no_stream',
        });
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && attempt < MAX_ATTEMPTS) {
          this.metrics.commandConflicts.inc();
          continue;
        }
        if (error instanceof WrongExpectedRevisionError) {
          throw new ProblemException('CONCURRENCY_CONFLICT', `${streamName} kept changing; retry the request`);
        }
        throw error;
      }
      for (const event of toAppend) this.metrics.eventsAppended.inc({ type: event.type });
      const after = await this.load(streamName, decider);
      const appended = after.events.slice(stored.length);
      return { state: after.state, events: appended, position: appended[appended.length - 1]?.position, replayed: false };
    }
  }

  /** The current state of a stream, read through the same cache commands use. */
  async current<State, Command, Event extends DomainEvent>(
    streamName: string,
    decider: Decider<State, Command, Event>,
  ): Promise<State> {
    return (await this.load(streamName, decider)).state;
  }

  /** The stream's events and folded state: from the cache plus whatever was appended since. */
  private async load<State, Command, Event extends DomainEvent>(
    streamName: string,
    decider: Decider<State, Command, Event>,
  ): Promise<{ events: RecordedEvent[]; state: State }> {
    const cached = this.cache.get(streamName);
    const known = cached?.events ?? [];
    const fresh = await this.store.readStream(
      streamName,
      known.length > 0 ? { fromRevision: (known[known.length - 1] as RecordedEvent).revision + 1 } : {},
    );
    const state = fresh.reduce(
      (s, e) => decider.evolve(s, toTimed<Event>(e)),
      cached ? (cached.state as State) : decider.initialState(),
    );
    const events = fresh.length > 0 ? [...known, ...fresh] : known;
    this.cache.delete(streamName);
    if (events.length > 0) this.cache.set(streamName, { events, state });
    if (this.cache.size > CACHED_STREAMS) this.cache.delete(this.cache.keys().next().value as string);
    return { events, state };
  }
}

/**
 * A replay answers only the request that was first made with the key (IETF Idempotency-Key
 * draft): the same key with another body is refused rather than answered with the first
 * response. Events stored before fingerprints existed carry none and still replay.
 */
const assertSameRequest = (first: RecordedEvent, metadata: CommandMetadata): void => {
  const stored = first.metadata.requestHash;
  if (stored === undefined || metadata.requestHash === undefined || stored === metadata.requestHash) return;
  throw keyReused();
};

const keyReused = (): ProblemException =>
  new ProblemException(
    'IDEMPOTENCY_KEY_REUSED',
    'this Idempotency-Key was already used for a different request on this route; use a new key for a new request',
  );

/** The events a command appended earlier, found by their derived ids. */
const eventsOf = (stored: readonly RecordedEvent[], commandId: string): RecordedEvent[] => {
  const first = stored.findIndex((e) => e.metadata.eventId === commandId);
  if (first < 0) return [];
  const events: RecordedEvent[] = [];
  for (let i = first; i < stored.length && stored[i]?.metadata.eventId === eventIdFor(commandId, i - first); i += 1) {
    events.push(stored[i] as RecordedEvent);
  }
  return events;
};

const envelope = (event: DomainEvent, meta: CommandMetadata, index: number): EventToAppend => ({
  type: event.type,
  data: event.data,
  metadata: {
    eventId: eventIdFor(meta.commandId, index),
    occurredAt: meta.now,
    actor: meta.actor,
    correlationId: meta.correlationId,
    causationId: meta.causationId,
    schemaVersion: SCHEMA_VERSION,
    ...(meta.requestHash !== undefined ? { requestHash: meta.requestHash } : {}),
  },
});
