export { MrwApi, type MrwClientOptions } from './mrw-api';
export { MrwClient, type RegisteredFromFile, type RegisterFromFileOptions, type UploadOptions } from './mrw-client';
export { MrwApiError, MrwConnectionError, MrwDigestMismatchError, apiErrorFrom, type FieldError, type ProblemDocument } from './mrw-errors';
export { API_PREFIX, API_ROUTES, type ApiRoute, type ApiRouteName } from './api-routes';
export { multipartBody, type MultipartBody, type UploadPart, type UploadProgress } from './multipart-upload';
export { requestOutcome, waitForRequest, type RequestOutcome, type WaitOptions, type WaitResult } from './follow-request';
export * from './api-types';
export { followRegistryEvents, readEventStream, type EventStreamOptions, type RegistryEvent, type RegistryEventsOptions, type SseMessage } from './event-stream';
