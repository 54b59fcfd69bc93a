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
import { backoffDelay, sleep } from '@mrw/resilience';

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
/** Between attempts that lost a race to another process: at most ~250 ms over all of them. */
const CONFLICT_BACKOFF = { initialMs: 2, maxMs: 64, jitter: 1 };
/** Streams whose events and folded state stay in memory between commands. */
const CACHED_STREAMS = 2_000;

interface CachedStream {
  readonly events: RecordedEvent[];
  /** Event id → index in `events`: a replay is found without scanning the stream. */
  readonly ids: Map<string, number>;
  state: unknown;
}

/** Event `index` of a command: the first reuses the command id, the rest derive from it. */
export const eventIdFor = (commandId: string, index: number): string =>
  index === 0 ? commandId : deriveId(commandId, `event-${index}`);

export const toTimed = <E>(event: RecordedEvent): Timed<E> =>
  ({ type: event.type, data: event.data, at: event.metadata.occurredAt }) as unknown as Timed<E>;

/** An append a command has asked for and not yet seen committed: what later commands on the stream decide on. */
interface InFlight {
  /** The stream's last revision once this append is in. */
  readonly revision: number;
  /** The state after this command's events. */
  readonly state: unknown;
  readonly eventIds: ReadonlySet<string>;
  /** Whether the append was committed (false: refused or failed). */
  readonly settled: Promise<boolean>;
}

/**
 * Load → fold → decide → append with the expected revision, retrying on conflict with fresh
 * state. A command whose id is already in the stream is a replay: it appends nothing and
 * returns the state, so clients may retry with the same Idempotency-Key.
 *
 * Commands on one stream are decided one at a time in this process (a keyed mutex), but a
 * command does not wait for the previous one's commit to be decided: it decides on the state
 * after the appends still in flight and appends with the revision they will have reached, so a
 * hot stream (every registration reserves its number on the model's stream) fills a group
 * commit instead of taking one commit per command. If an earlier append fails, the later ones
 * fail their revision check too and are decided again on fresh state. A refusal or a replay
 * decided on in-flight state waits for that state to be committed before it is answered.
 */
@Injectable()
export class CommandExecutor {
  private readonly locks = new KeyedMutex();
  /**
   * Hot streams (a model's stream grows with every registered version) are not re-read and
   * re-folded per command: only events after the cached revision are read, so another
   * process's appends are still seen. Least recently used streams are dropped first. It holds
   * committed events only.
   */
  private readonly cache = new Map<string, CachedStream>();
  private readonly inFlight = new Map<string, InFlight[]>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly metrics: Metrics,
  ) {}

  async execute<State, Command extends { metadata: CommandMetadata }, Event extends DomainEvent>(
    streamName: string,
    decider: Decider<State, Command, Event>,
    command: Command,
  ): Promise<Executed<State>> {
    try {
      for (let attempt = 1; ; attempt += 1) {
        const step = await this.locks.run(streamName, () => this.decide(streamName, decider, command));
        if (step.kind === 'answer') return step.executed;
        if (step.kind === 'again') continue;
        const outcome = await step.append;
        if ('executed' in outcome) return outcome.executed;
        if (outcome.error instanceof WrongExpectedRevisionError && attempt < MAX_ATTEMPTS) {
          this.metrics.commandConflicts.inc();
          // Another process appended to the stream first. Deciding again at once can lose the
          // same race for as long as that process keeps appending (its commits come in turns);
          // a short, growing, jittered wait lets its burst land first (2 ms doubling to 64 ms).
          await sleep(backoffDelay(attempt, CONFLICT_BACKOFF));
          continue;
        }
        if (outcome.error instanceof WrongExpectedRevisionError) {
          throw new ProblemException('CONCURRENCY_CONFLICT', `${streamName} kept changing; retry the request`);
        }
        throw outcome.error;
      }
    } catch (error) {
      // Event ids derive from command ids: a clash means the key was spent on another stream.
      if (error instanceof DuplicateEventIdError) throw keyReused();
      throw problemFromStoreError(error) ?? error;
    }
  }

  /**
   * Under the stream's lock: decide on the newest state (committed, then in flight) and either
   * answer, ask to decide again, or start the append (awaited outside the lock).
   */
  private async decide<State, Command extends { metadata: CommandMetadata }, Event extends DomainEvent>(
    streamName: string,
    decider: Decider<State, Command, Event>,
    command: Command,
  ): Promise<
    | { kind: 'answer'; executed: Executed<State> }
    | { kind: 'again' }
    | { kind: 'append'; append: Promise<{ executed: Executed<State> } | { error: unknown }> }
  > {
    const { events: stored, ids, state: loaded } = await this.load(streamName, decider);
    const committed = loaded as State;
    const lastStored = stored[stored.length - 1]?.revision ?? -1;
    const pending = (this.inFlight.get(streamName) ?? []).filter((p) => p.revision > lastStored);
    const tip = pending[pending.length - 1];
    const commandId = command.metadata.commandId;
    const replay = eventsOf(stored, ids, commandId);
    if (replay.length > 0) {
      assertSameRequest(replay[0] as RecordedEvent, command.metadata);
      return { kind: 'answer', executed: { state: committed, events: replay, position: replay[replay.length - 1]?.position, replayed: true } };
    }
    // The same command is still being appended (a retry racing its original): answer once it is in.
    if (pending.some((p) => p.eventIds.has(commandId))) {
      await this.settle(pending);
      return { kind: 'again' };
    }
    const state = (tip ? tip.state : committed) as State;
    const decision = decider.decide(command, state);
    if (!decision.ok || decision.value.length === 0) {
      // Decided on state still in flight: it must be committed for the answer to stand.
      if (pending.length > 0 && !(await this.settle(pending))) return { kind: 'again' };
      if (!decision.ok) throw problemFromDomainError(decision.error);
      return { kind: 'answer', executed: { state, events: [], position: undefined, replayed: false } };
    }
    const toAppend = decision.value.map((event, index) => envelope(event, command.metadata, index));
    const after = toAppend.reduce((s, e) => decider.evolve(s, toTimed<Event>(e as unknown as RecordedEvent)), state);
    const expected = tip ? tip.revision : lastStored;
    const appending = this.store.appendToStream(streamName, toAppend, { expectedRevision: expected < 0 ? 'no_stream' : expected });
    const entry: InFlight = {
      revision: expected + toAppend.length,
      state: after,
      eventIds: new Set(toAppend.map((e) => e.metadata.eventId)),
      settled: appending.then(
        () => true,
        () => false,
      ),
    };
    this.inFlight.set(streamName, [...(this.inFlight.get(streamName) ?? []), entry]);
    const append = appending.then(
      async (result) => {
        this.forget(streamName, entry);
        if (!result.appended) {
          // Another process appended this very command between our read and our append: answer its events.
          const now = await this.load(streamName, decider);
          const replayed = eventsOf(now.events, now.ids, commandId);
          return { executed: { state: now.state as State, events: replayed, position: replayed[replayed.length - 1]?.position, replayed: true } };
        }
        for (const event of toAppend) this.metrics.eventsAppended.inc({ type: event.type });
        const recorded = result.recorded ?? (await this.store.readStream(streamName, { fromRevision: expected + 1, maxCount: toAppend.length }));
        this.remember(streamName, decider, recorded);
        return { executed: { state: after as State, events: recorded, position: recorded[recorded.length - 1]?.position, replayed: false } };
      },
      (error: unknown) => {
        this.forget(streamName, entry);
        return { error };
      },
    );
    return { kind: 'append', append };
  }

  /** Waits for in-flight appends; true when every one was committed. */
  private async settle(pending: readonly InFlight[]): Promise<boolean> {
    return (await Promise.all(pending.map((p) => p.settled))).every(Boolean);
  }

  private forget(streamName: string, entry: InFlight): void {
    const rest = (this.inFlight.get(streamName) ?? []).filter((p) => p !== entry);
    if (rest.length > 0) this.inFlight.set(streamName, rest);
    else this.inFlight.delete(streamName);
  }

  /** Adds committed events to the cache when they follow what it holds (a read may have taken them already). */
  private remember<State, Command, Event extends DomainEvent>(streamName: string, decider: Decider<State, Command, Event>, recorded: readonly RecordedEvent[]): void {
    const cached = this.cache.get(streamName);
    const first = recorded[0];
    if (!cached || !first) return;
    if ((cached.events[cached.events.length - 1]?.revision ?? -1) !== first.revision - 1) return;
    this.extend(cached, decider, recorded);
  }

  /**
   * The state this process last folded for a stream, without reading the store: possibly behind
   * what is committed, so only for facts that never revert (a model, once created, stays).
   */
  lastKnown<State>(streamName: string): State | undefined {
    return this.cache.get(streamName)?.state as State | undefined;
  }

  /**
   * The current state of a stream for a reader: through the cache when commands keep the stream
   * there (a tail read), else folded from a whole read that is not cached, so reads spread over
   * thousands of streams do not push out the streams commands are working on.
   */
  async read<State, Command, Event extends DomainEvent>(streamName: string, decider: Decider<State, Command, Event>): Promise<State> {
    if (this.cache.has(streamName)) return this.current(streamName, decider);
    const events = await this.store.readStream(streamName);
    return events.reduce((state, event) => decider.evolve(state, toTimed<Event>(event)), decider.initialState());
  }

  /** The current state of a stream, read through the same cache commands use (committed events only). */
  async current<State, Command, Event extends DomainEvent>(
    streamName: string,
    decider: Decider<State, Command, Event>,
  ): Promise<State> {
    return (await this.load(streamName, decider)).state as State;
  }

  /**
   * The stream's events and folded state: from the cache plus whatever was appended since. The
   * cache may grow while the read is awaited (a commit of this process lands), so only events
   * after what it holds by then are folded; a read that does not follow on is read again whole.
   */
  private async load<State, Command, Event extends DomainEvent>(
    streamName: string,
    decider: Decider<State, Command, Event>,
  ): Promise<CachedStream> {
    const before = this.cache.get(streamName);
    const from = (before?.events[before.events.length - 1]?.revision ?? -1) + 1;
    const fresh = await this.store.readStream(streamName, from > 0 ? { fromRevision: from } : {});
    let entry: CachedStream = this.cache.get(streamName) ?? { events: [], ids: new Map(), state: decider.initialState() };
    const held = entry.events[entry.events.length - 1]?.revision ?? -1;
    const news = fresh.filter((e) => e.revision > held);
    if (news.length > 0 && (news[0] as RecordedEvent).revision !== held + 1) {
      entry = { events: [], ids: new Map(), state: decider.initialState() };
      this.extend(entry, decider, await this.store.readStream(streamName));
    } else {
      this.extend(entry, decider, news);
    }
    this.cache.delete(streamName);
    if (entry.events.length > 0) this.cache.set(streamName, entry);
    if (this.cache.size > CACHED_STREAMS) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }

  /** Folds events that follow on what the entry holds, indexing their ids. */
  private extend<State, Command, Event extends DomainEvent>(entry: CachedStream, decider: Decider<State, Command, Event>, events: readonly RecordedEvent[]): void {
    for (const event of events) {
      entry.ids.set(event.metadata.eventId, entry.events.length);
      entry.events.push(event);
      entry.state = decider.evolve(entry.state as State, toTimed<Event>(event));
    }
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
const eventsOf = (stored: readonly RecordedEvent[], ids: ReadonlyMap<string, number>, commandId: string): RecordedEvent[] => {
  const first = ids.get(commandId);
  if (first === undefined) return [];
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
