import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Response } from 'express';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { ProblemException, SUITE_CONFIG, TokenDirectory, type SuiteConfig } from '@mrw/platform';
import { EventStreamConnection } from './event-stream-connection';
import { sseComment, sseRetry } from './sse-wire';

/** What a reader waits before reconnecting after a drop (the SSE `retry` field). */
const RECONNECT_MS = 2_000;

/** What a refused client is told to wait (`Retry-After`, seconds). */
const RETRY_AFTER_SECONDS = 5;

export interface LiveStreamRequest {
  /** Resume strictly after this global position (`Last-Event-ID`); undefined: from the head, live only. */
  readonly after: bigint | undefined;
  /** Only these models' events (the `model` filter, or the token's scope); undefined for every model. */
  readonly models: readonly string[] | undefined;
  /** The caller's token: the stream ends when it is revoked. */
  readonly tokenId: string;
}

/**
 * The live event streams this process serves (`GET /api/v1/events/stream`), each its own
 * catch-up subscription, at most `MRW_EVENT_STREAMS_MAX` at once; all of them end when the
 * process shuts down, so the HTTP server can close.
 */
@Injectable()
export class LiveEventStreams implements OnModuleDestroy {
  private readonly logger = new Logger('event-streams');
  private readonly connections = new Set<EventStreamConnection>();
  /** Places taken by streams still reading the head position. */
  private starting = 0;
  private shuttingDown = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly tokens: TokenDirectory,
  ) {}

  /** Streams open now, subscriptions included: a stream counts until its subscription has stopped. */
  get open(): number {
    return this.connections.size + this.starting;
  }

  /** Answers the request with a live stream, or refuses it with a problem (429 at the cap) before any byte is sent. */
  async serve(request: LiveStreamRequest, response: Response): Promise<void> {
    if (this.shuttingDown) throw new ProblemException('SERVICE_UNAVAILABLE', 'the registry is shutting down; reconnect shortly', {}, 503);
    const limit = this.config.maxEventStreams;
    if (this.open >= limit) {
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      throw new ProblemException('TOO_MANY_EVENT_STREAMS', `this registry process already serves its ${limit} live event streams; retry in a few seconds`, { limit }, 429);
    }
    let gone = false;
    const leave = (): void => void (gone = true);
    response.once('close', leave);
    this.starting += 1;
    let head: bigint;
    try {
      head = await this.store.headPosition();
    } finally {
      this.starting -= 1;
      response.off('close', leave);
    }
    if (gone || this.shuttingDown) return;
    // A position beyond the head came from another log (a data directory since replaced): resume at the head.
    const after = request.after === undefined || request.after > head ? head : request.after;
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      // nginx buffers responses unless told not to; a live stream must not wait in a proxy.
      'X-Accel-Buffering': 'no',
    });
    response.socket?.setNoDelay(true);
    // The first bytes: the reader's reconnection delay, and where this stream starts.
    response.write(`${sseRetry(RECONNECT_MS)}${sseComment(`events after position ${after}`)}`);
    const connection: EventStreamConnection = new EventStreamConnection(response, {
      models: request.models,
      heartbeatMs: this.config.eventStreamHeartbeatMs,
      authorized: () => {
        const token = this.tokens.get(request.tokenId);
        return token !== undefined && token.revokedAt === null;
      },
      onClosed: () => this.connections.delete(connection),
      onError: (error) => this.logger.error(`a live event stream's subscription failed; the client will reconnect: ${error instanceof Error ? error.message : String(error)}`),
    });
    this.connections.add(connection);
    try {
      connection.start(this.store, after);
    } catch (error) {
      // The headers are out: no problem document can follow; the client reconnects.
      this.logger.error(`a live event stream could not subscribe: ${error instanceof Error ? error.message : String(error)}`);
      await connection.close();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.connections].map((connection) => connection.close()));
  }
}
