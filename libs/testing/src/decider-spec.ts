// Structural copies of the domain's `Result` and `Timed`: the testing library must not import
// @mrw/domain, whose specs import this library (Nx forbids the cycle).

/** An event as `evolve` folds it: the event plus when it occurred. */
export type Timed<E> = E & { readonly at: string };

/** An expected failure as the deciders return it. */
export interface DomainError<Code extends string = string> {
  readonly code: Code;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Result<T, Code extends string = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: DomainError<Code> };

/** A pure decider as the domain writes them: `initialState / evolve / decide`. */
export interface Decider<State, Command, Event, Code extends string = string> {
  readonly decide: (command: Command, state: State) => Result<Event[], Code>;
  readonly evolve: (state: State, event: Timed<Event>) => State;
  readonly initialState: () => State;
}

/** Where the given-events clock starts: a fixed instant, so every run sees the same times. */
export const GIVEN_CLOCK_START = '2025-03-03T09:00:00.000Z';
const ONE_MINUTE = 60_000;

/**
 * A fixed clock for given events: the first stamp is its start, each further stamp one
 * minute later. Deciders never read the wall clock, and neither do their specs.
 */
export class FixedClock {
  private nextMs: number;

  constructor(start: string = GIVEN_CLOCK_START, private readonly stepMs: number = ONE_MINUTE) {
    const ms = Date.parse(start);
    if (Number.isNaN(ms)) throw new Error(`FixedClock: ${start} is not a timestamp`);
    this.nextMs = ms;
  }

  /** The time the next stamped event gets. */
  peek(): string {
    return new Date(this.nextMs).toISOString();
  }

  /** Stamps one event and advances the clock. */
  stamp<E>(event: E): Timed<E> {
    const at = this.peek();
    this.nextMs += this.stepMs;
    return { ...event, at };
  }

  /** Stamps events in order, one step apart. */
  stampAll<E>(...events: E[]): Array<Timed<E>> {
    return events.map((event) => this.stamp(event));
  }

  /** Continues after an event stamped elsewhere, so time never runs backwards. */
  continueAfter(at: string): void {
    this.nextMs = Math.max(this.nextMs, Date.parse(at) + this.stepMs);
  }
}

/** Stamps events from GIVEN_CLOCK_START (or `start`), one minute apart. */
export const stamped = <E>(...events: E[]): Array<Timed<E>> => new FixedClock().stampAll(...events);

/** The instant `minutes` minutes after GIVEN_CLOCK_START: when the given event with that index happened. */
export const givenAt = (minutes: number, start: string = GIVEN_CLOCK_START): string =>
  new Date(Date.parse(start) + minutes * ONE_MINUTE).toISOString();

const hasAt = <E>(event: E | Timed<E>): event is Timed<E> =>
  typeof event === 'object' && event !== null && typeof (event as { at?: unknown }).at === 'string';

const describeFailure = (error: DomainError): string =>
  `${error.code}: ${error.message}${error.details ? ` ${JSON.stringify(error.details)}` : ''}`;

export interface DeciderSpecOptions<Command> {
  /** When a command is decided (e.g. its metadata's `now`); stamps its events for `thenState`. */
  readonly timeOf?: (command: Command) => string;
}

/** The outcome of `when`: assert the events it produced or the refusal it returned. */
export interface WhenClause<State, Event, Code extends string> {
  /** The raw decision, for assertions the helpers do not cover. */
  readonly result: Result<Event[], Code>;
  /** Exactly these events, in this order (none at all when called without arguments). */
  then(...expected: Event[]): void;
  /** A refusal with this error code and no events; returns the error for further checks. */
  thenFails(code: Code): DomainError<Code>;
  /** Success, then whatever partial assertions `check` makes on the events; returns them. */
  thenEvents(check: (events: Event[]) => void): Event[];
  /** Success, then assertions on the state after folding the given and the new events. */
  thenState(check: (state: State, events: Event[]) => void): State;
}

export interface GivenClause<State, Command, Event, Code extends string> {
  /** The state the given events fold to. */
  state(): State;
  when(command: Command): WhenClause<State, Event, Code>;
}

export interface DeciderSpec<State, Command, Event, Code extends string> {
  /**
   * The history before the command, oldest first. Events that carry no `at` are stamped
   * by a FixedClock: GIVEN_CLOCK_START for the first, one minute after its predecessor
   * for every other.
   */
  given(...events: Array<Event | Timed<Event>>): GivenClause<State, Command, Event, Code>;
}

/**
 * Given/when/then for a decider: `spec.given(...events).when(command).then(...events)`,
 * `.thenFails(code)`, `.thenEvents(check)` or `.thenState(check)`.
 */
export const deciderSpec = <State, Command, Event, Code extends string>(
  decider: Decider<State, Command, Event, Code>,
  options: DeciderSpecOptions<Command> = {},
): DeciderSpec<State, Command, Event, Code> => ({
  given: (...events) => {
    const clock = new FixedClock();
    const history = events.map((event) => {
      if (!hasAt(event)) return clock.stamp(event as Event);
      clock.continueAfter(event.at);
      return event;
    });
    const fold = (): State => history.reduce(decider.evolve, decider.initialState());
    return {
      state: fold,
      when: (command) => {
        const before = fold();
        const result = decider.decide(command, before);
        const succeeded = (): Event[] => {
          if (!result.ok) {
            throw new Error(`expected events, but the decider refused with ${describeFailure(result.error)}`);
          }
          return result.value;
        };
        return {
          result,
          then: (...expected) => {
            expect(succeeded()).toEqual(expected);
          },
          thenFails: (code) => {
            if (result.ok) {
              throw new Error(`expected a refusal with ${code}, but got events ${JSON.stringify(result.value, null, 2)}`);
            }
            expect(result.error.code).toBe(code);
            expect(typeof result.error.message).toBe('string');
            expect(result.error.message.length).toBeGreaterThan(0);
            return result.error;
          },
          thenEvents: (check) => {
            const produced = succeeded();
            check(produced);
            return produced;
          },
          thenState: (check) => {
            const produced = succeeded();
            const at = options.timeOf ? options.timeOf(command) : clock.peek();
            const after = produced.reduce<State>((state, event) => decider.evolve(state, { ...event, at }), before);
            check(after, produced);
            return after;
          },
        };
      },
    };
  },
});
