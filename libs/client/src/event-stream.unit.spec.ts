import { MrwApiError } from './mrw-errors';
import { readEventStream, SseParser, type SseMessage } from './event-stream';

const parseAll = (chunks: readonly string[]): { messages: SseMessage[]; parser: SseParser } => {
  const parser = new SseParser();
  return { messages: chunks.flatMap((chunk) => parser.push(chunk)), parser };
};

describe('SseParser', () => {
  it('joins multi-line data, names events, ignores comments and unknown fields', () => {
    const { messages } = parseAll([': hello\n', 'id: 7\nevent: StageTransitioned\ndata: {"a":\ndata: 1}\nfoo: bar\n\n', 'data:no space\n\n']);
    expect(messages).toEqual([
      { id: '7', event: 'StageTransitioned', data: '{"a":\n1}' },
      // The id stays the last one given; the type falls back to `message`.
      { id: '7', event: 'message', data: 'no space' },
    ]);
  });

  it('takes CR, LF and CRLF line ends, even a CRLF cut between two chunks, and a leading BOM', () => {
    const { messages } = parseAll(['\ufeffid: 1\r', '\ndata: a\r\r', 'id: 2\rdata: b\n', '\n']);
    expect(messages).toEqual([
      { id: '1', event: 'message', data: 'a' },
      { id: '2', event: 'message', data: 'b' },
    ]);
  });

  it('keeps an unfinished message for the next chunk and dispatches nothing without data', () => {
    const parser = new SseParser('5');
    expect(parser.push('id: 6\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('6');
    expect(parser.push('data: par')).toEqual([]);
    expect(parser.push('tial\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '6', event: 'message', data: 'partial' }]);
  });

  it('reads retry as a number of milliseconds and refuses ids holding NUL', () => {
    const { messages, parser } = parseAll(['retry: 2500\nretry: soon\nid: 3\n\nid: x\u0000y\ndata: z\n\n']);
    expect(parser.retry).toBe(2500);
    expect(messages).toEqual([{ id: '3', event: 'message', data: 'z' }]);
  });
});

/** A fetch that answers from a script, one response per call, recording the headers it was sent. */
const scriptedFetch = (answers: Array<() => Response>) => {
  const calls: Array<Record<string, string>> = [];
  const impl = (async (_url: string, init?: RequestInit) => {
    calls.push({ ...(init?.headers as Record<string, string>) });
    const answer = answers.shift();
    if (!answer) return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    return answer();
  }) as typeof fetch;
  return { impl, calls };
};

const sse = (text: string) => () => new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });

describe('readEventStream', () => {
  it('reconnects after the server closes the stream, sending the last id it saw', async () => {
    const { impl, calls } = scriptedFetch([sse('retry: 1\nid: 1\ndata: a\n\nid: 2\ndata: b\n\n'), sse('id: 3\ndata: c\n\n')]);
    const controller = new AbortController();
    const seen: string[] = [];
    const drops: unknown[] = [];
    for await (const message of readEventStream({ url: 'http://x/s', token: 't0k', fetch: impl, signal: controller.signal, onDrop: (e) => drops.push(e) })) {
      seen.push(`${message.id}:${message.data}`);
      if (seen.length === 3) controller.abort();
    }
    expect(seen).toEqual(['1:a', '2:b', '3:c']);
    expect(calls.map((h) => h['last-event-id'])).toEqual([undefined, '2']);
    expect(calls[0]).toMatchObject({ authorization: 'Bearer t0k', accept: 'text/event-stream' });
    expect(drops).toHaveLength(1);
  });

  it('waits out a 429 or 503 and stops at a refusal retrying cannot fix', async () => {
    const problem = (status: number, code: string) => () =>
      new Response(JSON.stringify({ status, code, detail: code }), { status, headers: { 'content-type': 'application/problem+json', 'retry-after': '1' } });
    const { impl, calls } = scriptedFetch([problem(429, 'TOO_MANY_EVENT_STREAMS'), problem(503, 'SERVICE_UNAVAILABLE'), problem(401, 'UNAUTHENTICATED')]);
    const delays: number[] = [];
    const reading = (async () => {
      for await (const _ of readEventStream({ url: 'http://x/s', token: 't', fetch: impl, maxRetryMs: 5, onDrop: (_e, ms) => delays.push(ms) })) void _;
    })();
    await expect(reading).rejects.toMatchObject({ name: 'MrwApiError', status: 401, code: 'UNAUTHENTICATED' });
    expect(calls).toHaveLength(3);
    // Retry-After (1 s) is honoured up to the longest delay the caller allows.
    expect(delays).toEqual([5, 5]);
  });

  it('ends quietly when its signal aborts while waiting for the server', async () => {
    const { impl, calls } = scriptedFetch([]);
    const controller = new AbortController();
    const reading = (async () => {
      const seen: SseMessage[] = [];
      for await (const message of readEventStream({ url: 'http://x/s', token: 't', fetch: impl, signal: controller.signal })) seen.push(message);
      return seen;
    })();
    while (calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(reading).resolves.toEqual([]);
  });

  it('refuses an answer that is not an event stream', async () => {
    const { impl } = scriptedFetch([() => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })]);
    const reading = (async () => {
      for await (const _ of readEventStream({ url: 'http://x/s', token: 't', fetch: impl })) void _;
    })();
    await expect(reading).rejects.toBeInstanceOf(MrwApiError);
  });
});
