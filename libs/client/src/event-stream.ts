import { API_PREFIX, API_ROUTES } from './api-routes';
import type { AuditSearchItem } from './api-types';
import { apiErrorFrom, MrwApiError } from './mrw-errors';

/*
 * Server-Sent Events over `fetch`, for browsers and Node alike. Browsers' EventSource cannot send
 * an Authorization header, and a token must never travel in a URL (it would end up in logs and
 * history), so the stream is read from a fetch body and parsed here.
 */

/** One message of an event stream (WHATWG HTML, "Server-sent events"). */
export interface SseMessage {
  /** The stream's last event id once this message arrived: the one to resume after. */
  readonly id: string;
  /** The `event:` field; `message` when the server gave none. */
  readonly event: string;
  /** The `data:` lines, joined with `\n`. */
  readonly data: string;
}

/**
 * An incremental parser of the SSE wire format: `push` the decoded text as it arrives, in chunks
 * cut anywhere (a CRLF split across chunks included), and get the messages it completed.
 */
export class SseParser {
  /** The reconnection delay the server asked for with `retry:`, in milliseconds. */
  retry: number | undefined;
  private buffer = '';
  private started = false;
  private skipLineFeed = false;
  private data: string[] = [];
  private event = '';
  private idBuffer: string;
  private lastId: string;

  constructor(lastEventId = '') {
    this.idBuffer = lastEventId;
    this.lastId = lastEventId;
  }

  /** The id to send as `Last-Event-ID` when reconnecting. */
  get lastEventId(): string {
    return this.lastId;
  }

  push(text: string): SseMessage[] {
    let chunk = text;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.skipLineFeed && chunk.length > 0) {
      this.skipLineFeed = false;
      if (chunk.charCodeAt(0) === 10) chunk = chunk.slice(1);
    }
    const buffer = this.buffer + chunk;
    const messages: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < buffer.length; i += 1) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(buffer.slice(start, i), messages);
      if (c === 13) {
        if (i + 1 === buffer.length) this.skipLineFeed = true;
        else if (buffer.charCodeAt(i + 1) === 10) i += 1;
      }
      start = i + 1;
    }
    this.buffer = buffer.slice(start);
    return messages;
  }

  private line(line: string, messages: SseMessage[]): void {
    if (line === '') return this.dispatch(messages);
    if (line.startsWith(':')) return; // a comment: heartbeats
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (name) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\u0000')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(messages: SseMessage[]): void {
    this.lastId = this.idBuffer;
    if (this.data.length > 0) messages.push({ id: this.lastId, event: this.event || 'message', data: this.data.join('\n') });
    this.data = [];
    this.event = '';
  }
}

export interface EventStreamOptions {
  /** The stream's full URL. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** Resume after this id (the `id` of the last message handled), e.g. one kept across page loads. */
  readonly lastEventId?: string;
  /** Aborting it ends the iteration (quietly) and closes the connection. */
  readonly signal?: AbortSignal;
  /** For tests and special transports; default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** The first reconnection delay until the server sets one with `retry:` (ms, default 1000); it doubles per failed attempt. */
  readonly retryMs?: number;
  /** The longest reconnection delay (ms, default 30 s). */
  readonly maxRetryMs?: number;
  /** A connection that brings nothing, not even a heartbeat, for this long is dropped and reopened (ms, default 45 s; 0: never). */
  readonly idleTimeoutMs?: number;
  /** Told each time the stream is open (first time and after every reconnection). */
  readonly onOpen?: () => void;
  /** Told each time the connection drops or cannot be opened, with the delay before the next attempt. */
  readonly onDrop?: (error: unknown, retryInMs: number) => void;
}

/** Refusals that retrying cannot fix: the request itself, the token or its rights. */
const isPermanent = (status: number): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

class StreamInterrupted extends Error {
  override readonly name = 'StreamInterrupted';
  constructor(
    message: string,
    /** The server's `Retry-After`, in milliseconds. */
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

const retryAfterMs = (header: string | null): number => {
  const seconds = header === null ? Number.NaN : Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
};

/** Resolves after `ms`, or at once when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Reads a Server-Sent Events stream over `fetch` with a bearer token, for as long as the caller
 * iterates: after a drop (the server restarting, a proxy timing out, no heartbeat for
 * `idleTimeoutMs`, a 429 or 5xx) it reconnects with backoff and `Last-Event-ID`, so a server
 * that resumes after that id loses and repeats nothing. It ends when `signal` aborts or the
 * caller stops iterating, and throws `MrwApiError` for a refusal retrying cannot fix (400, 401, 403, 404).
 */
export async function* readEventStream(options: EventStreamOptions): AsyncGenerator<SseMessage, void, undefined> {
  const fetchImpl = options.fetch ?? fetch;
  const maxRetryMs = options.maxRetryMs ?? 30_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const outer = options.signal;
  let lastEventId = options.lastEventId ?? '';
  let retryMs = options.retryMs ?? 1_000;
  let failures = 0;
  while (!outer?.aborted) {
    const attempt = new AbortController();
    const abort = (): void => attempt.abort(outer?.reason);
    outer?.addEventListener('abort', abort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const watch = (): void => {
      clearTimeout(idle);
      if (idleTimeoutMs > 0) idle = setTimeout(() => attempt.abort(new StreamInterrupted(`nothing received for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    };
    let drop: unknown;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${options.token}`, 'cache-control': 'no-cache' };
      if (lastEventId !== '') headers['last-event-id'] = lastEventId;
      watch();
      const response = await fetchImpl(options.url, { headers, signal: attempt.signal });
      if (response.status === 204) return; // the server's way of saying "do not reconnect"
      if (!response.ok) {
        const text = await response.text();
        if (isPermanent(response.status)) throw apiErrorFrom(response.status, text, 'GET', options.url);
        throw new StreamInterrupted(`${response.status}: ${text.slice(0, 200)}`, retryAfterMs(response.headers.get('retry-after')));
      }
      const type = response.headers.get('content-type') ?? '';
      if (!type.toLowerCase().startsWith('text/event-stream') || !response.body) {
        throw new MrwApiError({ status: response.status, code: 'NOT_AN_EVENT_STREAM', detail: `the server answered ${type || 'no content type'}` }, 'GET', options.url);
      }
      failures = 0;
      options.onOpen?.();
      const parser = new SseParser(lastEventId);
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      for (;;) {
        watch();
        const { done, value } = await reader.read();
        if (done) break;
        const messages = parser.push(decoder.decode(value, { stream: true }));
        if (parser.retry !== undefined) retryMs = parser.retry;
        // No idle clock while the caller works on what it was given: it is not the server's silence.
        clearTimeout(idle);
        for (const message of messages) {
          lastEventId = message.id;
          yield message;
          if (outer?.aborted) return;
        }
        lastEventId = parser.lastEventId;
      }
      if (outer?.aborted) return;
      drop = new StreamInterrupted('the server closed the stream');
    } catch (error) {
      if (outer?.aborted) return;
      if (error instanceof MrwApiError) throw error;
      drop = attempt.signal.aborted && attempt.signal.reason instanceof StreamInterrupted ? attempt.signal.reason : error;
    } finally {
      clearTimeout(idle);
      outer?.removeEventListener('abort', abort);
      // Closes the connection when the caller stopped iterating, or the stream broke.
      attempt.abort();
    }
    failures += 1;
    const backoff = Math.min(maxRetryMs, retryMs * 2 ** Math.min(failures - 1, 16));
    // Half fixed, half random: a restarted server is not met by every client at the same instant.
    const delay = Math.max(drop instanceof StreamInterrupted ? Math.min(drop.retryAfterMs, maxRetryMs) : 0, backoff / 2 + (Math.random() * backoff) / 2);
    options.onDrop?.(drop, delay);
    await pause(delay, outer);
  }
}

/** One event of the registry's live stream: its global position (`id`), its type, and the entry the audit search shows. */
export interface RegistryEvent {
  readonly id: string;
  readonly type: string;
  readonly entry: AuditSearchItem;
}

export interface RegistryEventsOptions extends Omit<EventStreamOptions, 'url'> {
  /** The registry's base URL, e.g. `http://localhost:8080` (a trailing `/api/v1` is accepted). */
  readonly url: string;
  /** Only this model's events. */
  readonly model?: string;
}

/**
 * Follows the registry's lifecycle events as they happen (`GET /api/v1/events/stream`), from now
 * on or after `lastEventId`, reconnecting as `readEventStream` does, until `signal` aborts.
 */
export async function* followRegistryEvents(options: RegistryEventsOptions): AsyncGenerator<RegistryEvent, void, undefined> {
  const { model, url: base, ...rest } = options;
  const route = API_ROUTES.streamEvents;
  const query = model === undefined ? '' : `?model=${encodeURIComponent(model)}`;
  const url = `${base.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}${API_PREFIX}${route.path}${query}`;
  for await (const message of readEventStream({ ...rest, url })) {
    yield { id: message.id, type: message.event, entry: JSON.parse(message.data) as AuditSearchItem };
  }
}
