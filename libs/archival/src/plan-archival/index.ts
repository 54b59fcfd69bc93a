export * from './archival-facts';
export * from './live-metric-windows';
export * from './archival-plan';
export * from './backtest';
// The registry checks a policy's archival part with the same rules when it is set.
export { archivalPolicyProblems, type ArchivalPolicyProblem } from '@mrw/contracts';
