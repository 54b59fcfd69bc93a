import { Inject, Injectable } from '@nestjs/common';
import { deploymentRunStream, newId, SCHEMA_VERSION } from '@mrw/contracts';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@mrw/event-store';
import { CLOCK, type Clock } from '@mrw/platform';
import { emptyRun, evolveRun, type RunEvent, type RunState } from './deployment-run';

const ACTOR = { kind: 'service', id: 'deployer' } as const;
/** Appends that lose a race re-read and decide again; more conflicts than this in a row is a bug. */
const MAX_CONFLICTS = 20;

/**
 * The deployer's runs in the event store, one private stream per deployment. Every append
 * expects the revision it decided on, so a trigger, a callback and the timeout racing on one
 * deployment are serialised: each decides on what the others recorded, and a callback token is
 * spent exactly once.
 */
@Injectable()
export class DeploymentRuns {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async read(deploymentId: string): Promise<RunState> {
    const events = await this.store.readStream(deploymentRunStream(deploymentId));
    return events.reduce(
      (state, e) => evolveRun(state, { type: e.type, data: e.data, revision: e.revision, at: e.metadata.occurredAt }),
      emptyRun,
    );
  }

  /**
   * Decides on the run as recorded and appends what `decide` returns, again on fresh state if
   * another writer got there first; resolves with the state after the append. `decide` may throw
   * (a refusal) and returns `[]` when there is nothing to record.
   */
  async change(deploymentId: string, decide: (state: RunState) => readonly RunEvent[], correlationId: string): Promise<RunState> {
    const stream = deploymentRunStream(deploymentId);
    for (let conflicts = 0; ; conflicts += 1) {
      const state = await this.read(deploymentId);
      const events = decide(state);
      if (events.length === 0) return state;
      const at = this.clock.now().toISOString();
      try {
        await this.store.appendToStream(
          stream,
          events.map((event) => ({
            type: event.type,
            data: event.data,
            // A fresh id: a derived one would turn a racing writer's append into a replay, not a conflict.
            metadata: { eventId: newId(), occurredAt: at, actor: ACTOR, correlationId, causationId: null, schemaVersion: SCHEMA_VERSION },
          })),
          { expectedRevision: state.revision < 0 ? 'no_stream' : state.revision },
        );
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && conflicts < MAX_CONFLICTS) continue;
        throw error;
      }
      return events.reduce((s, e, i) => evolveRun(s, { type: e.type, data: e.data, revision: state.revision + 1 + i, at }), state);
    }
  }
}
