import { deciderSpec, FixedClock, GIVEN_CLOCK_START, givenAt, stamped, type Result, type Timed } from './decider-spec';

// A toy decider: a counter that refuses to go above its limit.
type CounterEvent = { type: 'Incremented'; data: { by: number } };
type CounterCommand = { type: 'Increment'; data: { by: number }; now: string };
type CounterState = { value: number; history: string[] };

const decide = (command: CounterCommand, state: CounterState): Result<CounterEvent[], 'LIMIT_EXCEEDED'> =>
  state.value + command.data.by > 10
    ? { ok: false, error: { code: 'LIMIT_EXCEEDED', message: `${state.value} + ${command.data.by} > 10` } }
    : { ok: true, value: command.data.by === 0 ? [] : [{ type: 'Incremented', data: { by: command.data.by } }] };
const evolve = (state: CounterState, event: Timed<CounterEvent>): CounterState => ({
  value: state.value + event.data.by,
  history: [...state.history, event.at],
});
const initialState = (): CounterState => ({ value: 0, history: [] });

const spec = deciderSpec({ decide, evolve, initialState }, { timeOf: (command) => command.now });
const incremented = (by: number): CounterEvent => ({ type: 'Incremented', data: { by } });
const increment = (by: number): CounterCommand => ({ type: 'Increment', data: { by }, now: '2025-03-04T10:00:00.000Z' });

describe('deciderSpec', () => {
  it('then: passes on exactly the expected events and fails on others', () => {
    spec.given(incremented(2)).when(increment(3)).then(incremented(3));
    expect(() => spec.given(incremented(2)).when(increment(3)).then(incremented(4))).toThrow();
    expect(() => spec.given(incremented(2)).when(increment(3)).then()).toThrow();
  });

  it('then with no events: passes when nothing happened', () => {
    spec.given().when(increment(0)).then();
  });

  it('then: reports the refusal when the decider refused', () => {
    expect(() => spec.given(incremented(9)).when(increment(3)).then(incremented(3))).toThrow(
      'expected events, but the decider refused with LIMIT_EXCEEDED: 9 + 3 > 10',
    );
  });

  it('thenFails: returns the error for the expected code and fails on success or another code', () => {
    expect(spec.given(incremented(9)).when(increment(3)).thenFails('LIMIT_EXCEEDED').message).toBe('9 + 3 > 10');
    expect(() => spec.given().when(increment(3)).thenFails('LIMIT_EXCEEDED')).toThrow(/expected a refusal with LIMIT_EXCEEDED/);
  });

  it('thenEvents: hands over the events for partial assertions', () => {
    const events = spec.given().when(increment(4)).thenEvents((produced) => expect(produced).toHaveLength(1));
    expect(events).toEqual([incremented(4)]);
    expect(() => spec.given().when(increment(4)).thenEvents((produced) => expect(produced).toHaveLength(2))).toThrow();
  });

  it('thenState: folds the new events, stamped at the command time, onto the given state', () => {
    const state = spec.given(incremented(2)).when(increment(3)).thenState((after) => expect(after.value).toBe(5));
    expect(state.history).toEqual([GIVEN_CLOCK_START, '2025-03-04T10:00:00.000Z']);
  });

  it('given: stamps events without `at` one minute apart, continuing after stamped ones', () => {
    const state = spec.given(incremented(1), { ...incremented(1), at: '2025-03-03T12:00:00.000Z' }, incremented(1)).state();
    expect(state.history).toEqual([GIVEN_CLOCK_START, '2025-03-03T12:00:00.000Z', '2025-03-03T12:01:00.000Z']);
  });
});

describe('FixedClock', () => {
  it('stamps from its start, one minute per event', () => {
    expect(stamped(incremented(1), incremented(2)).map((e) => e.at)).toEqual(['2025-03-03T09:00:00.000Z', '2025-03-03T09:01:00.000Z']);
    expect(givenAt(90)).toBe('2025-03-03T10:30:00.000Z');
    const clock = new FixedClock('2030-01-01T00:00:00Z', 1000);
    expect(clock.stamp(incremented(1)).at).toBe('2030-01-01T00:00:00.000Z');
    expect(clock.peek()).toBe('2030-01-01T00:00:01.000Z');
  });

  it('refuses a start that is not a timestamp', () => {
    expect(() => new FixedClock('monday')).toThrow('FixedClock: monday is not a timestamp');
  });
});
