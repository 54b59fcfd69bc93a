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
    expect(lines[1]).toMatchObject({ attempt: 1, maxAttempts: 5, err: { message: 'store busy' } });
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
