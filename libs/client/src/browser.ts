/**
 * The client for browsers (the console): the typed API over `fetch`, errors, route table and
 * types, without the Node-only uploads of local files.
 */
export { MrwApi, type MrwClientOptions } from './mrw-api';
export { MrwApiError, MrwConnectionError, apiErrorFrom, type FieldError, type ProblemDocument } from './mrw-errors';
export { API_PREFIX, API_ROUTES, type ApiRoute, type ApiRouteName } from './api-routes';
export { requestOutcome, type RequestOutcome } from './follow-request';
export * from './api-types';
export { followRegistryEvents, readEventStream, type RegistryEvent, type RegistryEventsOptions } from './event-stream';
export type { Actor, EvaluationDetails, GateCheck, Stage } from '@mrw/contracts';
