import { Logger } from '@nestjs/common';
import { configureLogging } from '@mrw/logging';
import { NestPinoLogger } from './nest-pino.logger';

describe("Nest's logger on pino", () => {
  let lines: Array<Record<string, unknown>>;

  beforeAll(() => Logger.overrideLogger(new NestPinoLogger()));

  beforeEach(() => {
    lines = [];
    configureLogging({
      service: 'registry',
      level: 'info',
      format: 'json',
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
  });

  it("writes Nest's `Logger` calls as JSON lines with their context", () => {
    new Logger('evaluator').log('evaluating churn@3');
    new Logger('tokens').warn('the configured token for bob was revoked');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', service: 'registry', context: 'evaluator', msg: 'evaluating churn@3' }),
      expect.objectContaining({ level: 'warn', context: 'tokens', msg: 'the configured token for bob was revoked' }),
    ]);
  });

  it('logs an error as an `err` object, and a stack passed beside a message as `stack`', () => {
    new Logger('http').error(new TypeError('boom with Bearer abc123'));
    Logger.error('init failed', 'Error: init failed\n    at main (main.ts:1:1)', 'ExceptionHandler');
    expect(lines[0]).toMatchObject({ level: 'error', context: 'http', err: { type: 'TypeError', message: 'boom with Bearer [REDACTED]' } });
    expect(String((lines[0]?.['err'] as { stack: string }).stack)).toContain('TypeError');
    expect(lines[1]).toMatchObject({ level: 'error', context: 'ExceptionHandler', msg: 'init failed', stack: expect.stringContaining('at main') });
  });

  it("keeps Nest's start-up chatter out of the info log", () => {
    new Logger('InstanceLoader').log('RegistryModule dependencies initialized');
    new Logger('RouterExplorer').log('Mapped {/api/v1/models, POST} route');
    new Logger('registry').debug('not at info');
    expect(lines).toEqual([]);
  });
});
