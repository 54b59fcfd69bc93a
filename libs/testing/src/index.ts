export {
  deciderSpec,
  FixedClock,
  GIVEN_CLOCK_START,
  givenAt,
  stamped,
  type Decider,
  type DeciderSpec,
  type DeciderSpecOptions,
  type GivenClause,
  type WhenClause,
} from './decider-spec';
export * from './model-version.fixtures';
export { describeAdapterContract, type AdapterFixture } from './adapter-contract';
