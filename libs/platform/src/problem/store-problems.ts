import { EventTooLargeError, StreamDeletedError } from '@mrw/event-store';
import { ProblemException } from './problem';

/**
 * The problem an event-store failure stands for when the input caused it (an append the store
 * cannot hold, a deleted stream), or undefined for a fault of the store itself. Both the HTTP
 * filter and the service-command consumer answer these as refusals, never as 5xx or retries.
 */
export const problemFromStoreError = (error: unknown): ProblemException | undefined => {
  if (error instanceof EventTooLargeError) {
    return new ProblemException('EVENT_TOO_LARGE', `the change is too large to record: ${error.reason}`);
  }
  if (error instanceof StreamDeletedError) {
    return new ProblemException('STREAM_DELETED', `${error.streamName} has been deleted from the event store; it takes no more changes`, {}, 409);
  }
  return undefined;
};
