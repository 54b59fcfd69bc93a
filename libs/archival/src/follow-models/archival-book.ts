import { Inject, Injectable } from '@nestjs/common';
import { modelOfStream } from '@mrw/contracts';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@mrw/event-store';
import { LogFeed, Readiness } from '@mrw/platform';
import { emptyModelFacts, evolveModelFacts, type ModelFacts } from '../plan-archival';

/**
 * What the archival service knows of every model, folded from the registry's events: each
 * version's stage and since when, when it was superseded, what is in flight, which version
 * serves and which is the rollback target, and the model's policy. In memory, rebuilt from the
 * log at every start; the service never reads the registry's streams with the registry's deciders.
 */
@Injectable()
export class ArchivalBook extends LogFeed {
  private readonly models = new Map<string, ModelFacts>();

  constructor(@Inject(EVENT_STORE) store: EventStore, readiness: Readiness) {
    super(store, readiness, { name: 'archival-book', filter: { streamPrefixes: ['model-', 'modelVersion-'] } });
  }

  protected apply(event: RecordedEvent): void {
    const model = modelOfStream(event.streamName);
    if (!model) return;
    const facts = this.models.get(model) ?? emptyModelFacts(model);
    this.models.set(model, evolveModelFacts(facts, { type: event.type, data: event.data, streamName: event.streamName, occurredAt: event.metadata.occurredAt }));
  }

  get(model: string): ModelFacts | undefined {
    return this.models.get(model);
  }

  /** Every model the log has, by name. */
  names(): string[] {
    return [...this.models.keys()].sort();
  }
}
