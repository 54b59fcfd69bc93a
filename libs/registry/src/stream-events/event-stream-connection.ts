import { randomUUID } from 'node:crypto';
import { modelOfStream, streamCategory } from '@mrw/contracts';
import type { EventStore, RecordedEvent, Subscription } from '@mrw/event-store';
import { auditEntryOf } from '../audit-trail/audit-entry.view';
import { sseComment, sseMessage } from './sse-wire';

/**
 * The registry's public lifecycle streams: the only ones a live stream carries. Tokens, people,
 * webhooks, decision links, deployment runs and operations notices stay off it (see
 * PRIVATE_CATEGORIES in @mrw/contracts for those that never leave the suite at all).
 */
const LIFECYCLE_PREFIXES = { model: 'model-', modelVersion: 'modelVersion-' } as const;

/** What a live stream writes to: an HTTP response (any Writable does). */
export interface SseSink {
  write(chunk: string): boolean;
  end(): unknown;
  destroy(): unknown;
  readonly writableNeedDrain: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

export interface EventStreamSettings {
  /** Only these models' events; undefined for every model. */
  readonly models: readonly string[] | undefined;
  readonly heartbeatMs: number;
  /** Whether the caller may still read (its token not revoked); checked on each event and heartbeat. */
  readonly authorized: () => boolean;
  /** Called once the subscription has stopped, whatever ended the stream. */
  readonly onClosed: () => void;
  readonly onError: (error: unknown) => void;
}

/**
 * A client that has read nothing for this many heartbeat intervals (its socket still full) is
 * dropped: it holds a subscription and a place under the cap, and it resumes with Last-Event-ID.
 */
const STALLED_HEARTBEATS = 4;

/** Events read per batch while catching up: bounds what one stream holds in memory. */
const CATCH_UP_BATCH = 100;

/**
 * One client's live stream: a catch-up subscription to `$all`, from a position on, written to
 * the response as Server-Sent Events. The subscription handles one event at a time and waits for
 * the socket to drain, so a slow reader slows its own subscription, never the process.
 */
export class EventStreamConnection {
  private subscription: Subscription | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private stalledBeats = 0;
  private signalClosed: () => void = () => undefined;
  /** Resolves as soon as the stream is closing: releases a write waiting for a drain that will not come. */
  private readonly closed = new Promise<void>((resolve) => (this.signalClosed = resolve));

  constructor(
    private readonly sink: SseSink,
    private readonly settings: EventStreamSettings,
  ) {
    sink.once('close', () => void this.close());
  }

  /** Starts the subscription strictly after `after` (a global position). */
  start(store: EventStore, after: bigint): void {
    if (this.closing) return;
    this.heartbeat = setInterval(() => this.beat(), this.settings.heartbeatMs);
    const { models } = this.settings;
    const streamPrefixes = models
      ? models.flatMap((model) => [`${LIFECYCLE_PREFIXES.model}${model}`, `${LIFECYCLE_PREFIXES.modelVersion}${model}@`])
      : Object.values(LIFECYCLE_PREFIXES);
    this.subscription = store.subscribeToAll({
      name: `event-stream-${randomUUID()}`,
      startAfter: after,
      filter: { streamPrefixes },
      batchSize: CATCH_UP_BATCH,
      handler: (event) => this.deliver(event),
      onError: (error) => {
        this.settings.onError(error);
        // The client reconnects with its Last-Event-ID and loses nothing.
        void this.close();
      },
    });
  }

  /** Ends the response and stops the subscription; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      this.signalClosed();
      // A client that reads nothing would never let the end through.
      if (this.sink.writableNeedDrain) this.sink.destroy();
      else this.sink.end();
      try {
        await this.subscription?.stop();
      } finally {
        this.settings.onClosed();
      }
    })();
    return this.closing;
  }

  /** The server-side filter works on prefixes (`model-churn` is also a prefix of `model-churn2`): the exact check is here. */
  private accepts(event: RecordedEvent): boolean {
    const category = streamCategory(event.streamName);
    if (category !== 'model' && category !== 'modelVersion') return false;
    const { models } = this.settings;
    if (!models) return true;
    const model = modelOfStream(event.streamName);
    return model !== undefined && models.includes(model);
  }

  private async deliver(event: RecordedEvent): Promise<void> {
    if (this.closing || !this.accepts(event)) return;
    if (!this.settings.authorized()) {
      // Not awaited: closing stops the subscription, which waits for this very handler.
      void this.close();
      return;
    }
    await this.send(sseMessage(event.position.toString(), event.type, JSON.stringify(auditEntryOf(event))));
  }

  /** Writes, then waits for the socket to drain when the write filled its buffer (or for the stream to close). */
  private async send(chunk: string): Promise<void> {
    if (this.sink.write(chunk)) return;
    let drained: () => void = () => undefined;
    try {
      await Promise.race([new Promise<void>((resolve) => this.sink.once('drain', (drained = resolve))), this.closed]);
    } finally {
      this.sink.off('drain', drained);
    }
  }

  private beat(): void {
    if (this.closing) return;
    if (!this.settings.authorized()) {
      void this.close();
      return;
    }
    if (this.sink.writableNeedDrain) {
      this.stalledBeats += 1;
      // Destroying emits 'close', which closes the stream.
      if (this.stalledBeats >= STALLED_HEARTBEATS) this.sink.destroy();
      return;
    }
    this.stalledBeats = 0;
    this.sink.write(sseComment('heartbeat'));
  }
}
