import { Writable } from 'node:stream';
import { configureLogging, createLogger, loggerFor } from './logger';
import { inNewLogContext, withLogContext } from './log-context';
import { REDACTED, redactSecrets, scrubText } from './redaction';

/** A logger writing JSON lines into an array. */
const capture = () => {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    format: 'json',
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
};

describe('log redaction', () => {
  it('replaces secret fields at any depth, in any letter case, inside arrays', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        token: 'tok-top',
        request: { headers: { Authorization: 'Bearer hdr-secret', cookie: 'sid=cookie-secret', accept: 'application/json' } },
        issued: [{ subject: 'carol', secretHash: 'hash-secret', verifier: 'verifier-secret' }],
        policy: { deployment: { targets: [{ settings: { apiToken: 'api-secret', PASSWORD: 'pw-secret', url: 'https://ci' } }] } },
        a: { b: { c: { d: { e: { f: { g: { h: { secret: 'deep-secret' } } } } } } } },
      },
      'issued',
    );
    const text = lines.join('');
    for (const secret of ['tok-top', 'hdr-secret', 'cookie-secret', 'hash-secret', 'verifier-secret', 'api-secret', 'pw-secret', 'deep-secret']) {
      expect(text).not.toContain(secret);
    }
    const record = JSON.parse(lines[0] as string);
    expect(record.token).toBe(REDACTED);
    expect(record.request.headers).toEqual({ Authorization: REDACTED, cookie: REDACTED, accept: 'application/json' });
    expect(record.issued[0]).toEqual({ subject: 'carol', secretHash: REDACTED, verifier: REDACTED });
    expect(record.policy.deployment.targets[0].settings.url).toBe('https://ci');
  });

  it('scrubs bearer credentials and URL userinfo from messages and errors', () => {
    const { logger, records } = capture();
    logger.warn('rejected Authorization: Bearer abc.DEF-123_xyz from https://alice:hunter2@example.com/m.onnx');
    logger.error({ err: new Error('GET https://bob:s3cret@host/x failed with Bearer zzz-top') }, 'fetch failed');
    const [warn, error] = records() as [Record<string, any>, Record<string, any>];
    expect(warn.msg).toBe(`rejected Authorization: Bearer ${REDACTED} from https://${REDACTED}@example.com/m.onnx`);
    expect(error.err.message).toBe(`GET https://${REDACTED}@host/x failed with Bearer ${REDACTED}`);
    expect(JSON.stringify(error)).not.toMatch(/s3cret|zzz-top/);
    expect(error.err.type).toBe('Error');
  });

  it('leaves ordinary text and fields alone', () => {
    expect(scrubText('version 3 of churn entered Staging; see https://example.com/a@b')).toBe(
      'version 3 of churn entered Staging; see https://example.com/a@b',
    );
    expect(redactSecrets({ tokenId: 't-1', subject: 'carol', roles: ['viewer'] })).toEqual({ tokenId: 't-1', subject: 'carol', roles: ['viewer'] });
  });
});

describe('log lines', () => {
  it('carry level, time, service and msg, plus the fields of the context they are written in', async () => {
    const { logger, records } = capture();
    logger.info('outside');
    await withLogContext({ correlationId: 'c-1', stream: 'modelVersion-churn@1' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await withLogContext({ eventType: 'EvaluationRequested' }, async () => logger.info({ rows: 3 }, 'inside'));
      await inNewLogContext({ commandType: 'RecordEvaluationResult' }, async () => logger.info('nested command'));
    });
    const [outside, inside, nested] = records() as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    expect(outside).toMatchObject({ level: 'info', service: 'test', msg: 'outside' });
    expect(typeof outside['time']).toBe('string');
    expect(outside).not.toHaveProperty('correlationId');
    expect(inside).toMatchObject({ correlationId: 'c-1', stream: 'modelVersion-churn@1', eventType: 'EvaluationRequested', rows: 3 });
    expect(nested).toMatchObject({ commandType: 'RecordEvaluationResult' });
    expect(nested).not.toHaveProperty('eventType');
  });

  it('leave out context fields without a value, and keep the enclosing value of one given as undefined', async () => {
    const { logger, records } = capture();
    await withLogContext({ correlationId: 'c-2', stream: undefined }, async () => {
      await withLogContext({ correlationId: undefined, eventId: 'e-1' }, async () => logger.info('inside'));
    });
    const [inside] = records() as [Record<string, unknown>];
    expect(inside).toMatchObject({ correlationId: 'c-2', eventId: 'e-1' });
    expect(inside).not.toHaveProperty('stream');
  });

  it("say whether a component's level is written, following the process's level", () => {
    const component = loggerFor('probe');
    configureLogging({ service: 'test', level: 'error', format: 'json' });
    expect([component.enabled('error'), component.enabled('warn'), component.enabled('info'), component.enabled('debug')]).toEqual([true, false, false, false]);
    configureLogging({ service: 'test', level: 'silent', format: 'json' });
    expect(component.enabled('error')).toBe(false);
    configureLogging({ service: 'test', level: 'debug', format: 'json' });
    expect(component.enabled('debug')).toBe(true);
    configureLogging({ service: 'test', level: 'error', format: 'json' });
  });

  it('in pretty format are text, not JSON', () => {
    let out = '';
    const logger = createLogger({ service: 'test', level: 'info', format: 'pretty', destination: new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) }) });
    logger.child({ context: 'evaluator' }).info('evaluating churn@3');
    expect(out).toContain('[evaluator] evaluating churn@3');
    expect(() => JSON.parse(out)).toThrow();
  });
});
