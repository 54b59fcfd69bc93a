/** Who caused an event: a person authenticated by token, or one of the suite's services. */
export interface Actor {
  readonly kind: 'user' | 'service';
  readonly id: string;
}

/**
 * Metadata carried by every stored event. `prevHash`/`hash` are filled in by the event
 * store when it appends, so producers never compute them.
 */
export interface EventMetadata {
  readonly eventId: string;
  readonly occurredAt: string;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly schemaVersion: number;
  /**
   * sha256 of the request that carried an `Idempotency-Key` (its canonical JSON body): a
   * retry with the same key is replayed only when its fingerprint is the same.
   */
  readonly requestHash?: string;
  readonly prevHash?: string | null;
  readonly hash?: string;
}

/** A domain event as the deciders produce it: no metadata yet. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** What a command carries besides its payload: identity, actor and the time it is decided at. */
export interface CommandMetadata {
  /** Idempotency key; the first resulting event reuses it as its id. */
  readonly commandId: string;
  readonly actor: Actor;
  /** The decider's clock: deciders never read the wall clock. */
  readonly now: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  /** Fingerprint of the request behind an `Idempotency-Key`; stored on the events it appends. */
  readonly requestHash?: string;
}

export const SCHEMA_VERSION = 1;
