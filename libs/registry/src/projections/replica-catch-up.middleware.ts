import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { noteLogHead, ProblemException, sendProblem } from '@mrw/platform';
import { RegistryProjector } from './registry-projector';

/** How long a request waits for this replica's read model before it is answered 503. */
const CATCH_UP_MS = 5_000;

/**
 * Read-your-writes across registry replicas: on PostgreSQL, where replicas behind one load
 * balancer share the log, a request waits until this replica's read model holds every event
 * in the log when it arrived, so it sees whatever any replica acknowledged before (a version
 * registered through one replica is listed, and its approval found, through the other). The
 * price is one read of the log's head per request, which the auth guard reuses (noteLogHead). Applied only on PostgreSQL (RegistryModule):
 * with SQLite the registry is the one writer and already waits for its own appends, and a
 * request pays nothing for it.
 */
@Injectable()
export class ReplicaCatchUp implements NestMiddleware {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projector: RegistryProjector,
  ) {}

  use(request: Request, response: Response, next: NextFunction): void {
    this.store
      .headPosition()
      .then((head) => {
        // The auth guard brings the token feed up to the same head instead of reading it again.
        noteLogHead(request, head);
        return this.projector.waitFor(head, CATCH_UP_MS).then(
          () => next(),
          () => sendProblem(response, new ProblemException('READ_MODEL_BEHIND', `this registry replica's read model has not reached position ${head} of the log yet; retry`, {}, 503)),
        );
      })
      // The store unreachable: the request goes on and meets the same outage where it reads.
      .catch(() => next());
  }
}
