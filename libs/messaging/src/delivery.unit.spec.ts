import { configureLogging, loggerFor } from '@mrw/logging';
import { deliver } from './delivery';
import { PoisonMessageError, type IncomingMessage } from './message-bus.port';

const event: IncomingMessage = {
  topic: 'mrw.registry.events.v1',
  partition: 2,
  offset: '41',
  key: 'modelVersion-churn@3',
  value: '{}',
  headers: {
    'event-type': 'EvaluationRequested',
    'event-id': 'e-1',
    'correlation-id': 'c-1',
    'causation-id': 'e-0',
    stream: 'modelVersion-churn@3',
    authorization: 'Bearer service-secret',
  },
};

describe('delivery logs', () => {
  let lines: Array<Record<string, unknown>>;
  const handlerLog = loggerFor('evaluator');

  beforeEach(() => {
    lines = [];
    configureLogging({
      service: 'test',
      level: 'debug',
      format: 'json',
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
  });

  it("gives the handler's lines and its retries the message's correlation, causation, stream and type", async () => {
    let calls = 0;
    const outcome = await deliver(
      event,
      {
        groupId: 'mrw-evaluator',
        topic: event.topic,
        retryDelayMs: 1,
        handler: async () => {
          handlerLog.info('evaluating churn@3');
          calls += 1;
          if (calls === 1) throw new Error('store busy');
        },
      },
      { heartbeat: async () => undefined },
      async () => undefined,
      () => false,
    );
    expect(outcome).toBe('handled');
    const context = { correlationId: 'c-1', causationId: 'e-0', stream: 'modelVersion-churn@3', eventType: 'EvaluationRequested', eventId: 'e-1', group: 'mrw-evaluator' };
    expect(lines.map((l) => [l['level'], l['context']])).toEqual([
      ['info', 'evaluator'],
      ['warn', 'messaging'],
      ['info', 'evaluator'],
      ['debug', 'messaging'],
    ]);
    for (const line of lines) expect(line).toMatchObject(context);
    expect(lines[1]).toMatchObject({ attempt: 1, kind: 'unknown', err: { message: 'store busy' } });
    expect(JSON.stringify(lines)).not.toContain('service-secret');
  });

  it('logs a dead letter as an error with the reason, for a command keyed by its stream', async () => {
    const command: IncomingMessage = {
      ...event,
      topic: 'mrw.registry.commands.v1',
      headers: { 'command-type': 'ArchiveModelVersion', 'command-id': 'k-1', 'correlation-id': 'c-2' },
    };
    const letters: string[] = [];
    const outcome = await deliver(
      command,
      { groupId: 'mrw-registry', topic: command.topic, handler: async () => Promise.reject(new PoisonMessageError('archival may not send this')) },
      { heartbeat: async () => undefined },
      async (reason) => void letters.push(reason),
      () => false,
    );
    expect(outcome).toBe('dead-lettered');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        correlationId: 'c-2',
        causationId: null,
        stream: 'modelVersion-churn@3',
        commandType: 'ArchiveModelVersion',
        commandId: 'k-1',
        group: 'mrw-registry',
        reason: 'PoisonMessageError: archival may not send this',
        dlq: 'mrw.registry.commands.v1.dlq',
      }),
    ]);
    expect(lines[0]).not.toHaveProperty('eventType');
  });
});

describe('delivery: what a failure means', () => {
  const letters: Array<{ reason: string; attempts: number }> = [];
  const deadLetter = async (reason: string, attempts: number) => void letters.push({ reason, attempts });
  const notices: Array<{ attempt: number; kind: string; settled: boolean }> = [];
  const options = (handler: () => Promise<void>) => ({
    groupId: 'mrw-test',
    topic: 'mrw.registry.events.v1',
    handler,
    maxAttempts: 3,
    retryDelayMs: 1,
    maxRetryDelayMs: 2,
    onRetry: (n: { attempt: number; kind: string; settled: boolean }) => void notices.push({ attempt: n.attempt, kind: n.kind, settled: n.settled }),
  });
  const heartbeat = { heartbeat: async () => undefined };

  beforeEach(() => {
    letters.length = 0;
    notices.length = 0;
    configureLogging({ service: 'test', level: 'silent', format: 'json' });
  });

  it('sends a permanent failure to the DLQ at once, with its reason', async () => {
    const outcome = await deliver(event, options(async () => Promise.reject(new PoisonMessageError('refused: NOT_IN_STAGING'))), heartbeat, deadLetter, () => false);
    expect(outcome).toBe('dead-lettered');
    expect(letters).toEqual([{ reason: 'PoisonMessageError: refused: NOT_IN_STAGING', attempts: 1 }]);
    expect(notices).toEqual([]);
  });

  it('retries a transient failure past the attempt limit, without limit, until it passes', async () => {
    let calls = 0;
    const outcome = await deliver(
      event,
      options(async () => {
        calls += 1;
        if (calls < 8) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      }),
      heartbeat,
      deadLetter,
      () => false,
    );
    expect(outcome).toBe('handled');
    expect(calls).toBe(8);
    expect(letters).toEqual([]);
    expect(notices.filter((n) => !n.settled)).toHaveLength(7);
    expect(notices.at(-1)).toEqual({ attempt: 8, kind: 'transient', settled: true });
  });

  it('gives a failure of unknown kind (a bug) its attempts, then the DLQ', async () => {
    const outcome = await deliver(event, options(async () => Promise.reject(new TypeError('x is undefined'))), heartbeat, deadLetter, () => false);
    expect(outcome).toBe('dead-lettered');
    expect(letters).toEqual([{ reason: 'TypeError: x is undefined', attempts: 3 }]);
  });

  it('stops retrying when the consumer stops, leaving the message uncommitted', async () => {
    let stopping = false;
    const outcome = await deliver(
      event,
      options(async () => {
        stopping = true;
        throw Object.assign(new Error('broker gone'), { retriable: true });
      }),
      heartbeat,
      deadLetter,
      () => stopping,
    );
    expect(outcome).toBe('stopped');
    expect(letters).toEqual([]);
  });
});
