import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { configureLogging, type LogLevel } from '@mrw/logging';
import { accessLevelOf, CORRELATION_HEADER, requestLogging } from './request-logging.middleware';

/** Runs one request through the middleware and finishes it with `status`; the access lines written at `level`. */
const accessLines = (path: string, status: number, level: LogLevel): Array<Record<string, unknown>> => {
  const lines: string[] = [];
  configureLogging({ service: 'test', level, format: 'json', destination: { write: (line: string) => void lines.push(line) } });
  const request = { headers: {}, originalUrl: `${path}?x=1`, method: 'GET', baseUrl: '', route: { path } } as unknown as Request;
  const response = Object.assign(new EventEmitter(), { statusCode: status, setHeader: () => undefined }) as unknown as Response;
  let nextCalled = false;
  requestLogging()(request, response, () => (nextCalled = true));
  expect(nextCalled).toBe(true);
  response.emit('finish');
  response.emit('close');
  configureLogging({ service: 'test', level: 'error', format: 'json' });
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
};

describe('access lines', () => {
  it('are logged at a level by what was asked and how it went', () => {
    expect(accessLevelOf('/api/v1/models', 200)).toBe('info');
    expect(accessLevelOf('/api/v1/models', 404)).toBe('info');
    expect(accessLevelOf('/api/v1/models', 500)).toBe('error');
    expect(accessLevelOf('/api/v1/models', 503)).toBe('error');
    expect(accessLevelOf('/healthz', 200)).toBe('debug');
    expect(accessLevelOf('/metrics', 200)).toBe('debug');
    expect(accessLevelOf('/readyz', 200)).toBe('debug');
    // Not ready is what the probe is for: worth seeing, not an error.
    expect(accessLevelOf('/readyz', 503)).toBe('warn');
    expect(accessLevelOf('/healthz', 503)).toBe('error');
    expect(accessLevelOf('/readyz', 500)).toBe('error');
  });

  it('carry the request, its status and its correlation id, once, without the query string', () => {
    const [line, ...more] = accessLines('/api/v1/models', 200, 'info');
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'info', context: 'http', method: 'GET', route: '/api/v1/models', path: '/api/v1/models', status: 200, msg: 'GET /api/v1/models 200' });
    expect(line?.['correlationId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(line?.['durationMs']).toEqual(expect.any(Number));
  });

  it('are not written at a level that drops them', () => {
    expect(accessLines('/api/v1/models', 200, 'error')).toEqual([]);
    expect(accessLines('/readyz', 200, 'info')).toEqual([]);
    expect(accessLines('/readyz', 503, 'error')).toEqual([]);
    expect(accessLines('/readyz', 503, 'info').map((l) => l['level'])).toEqual(['warn']);
    expect(accessLines('/api/v1/models', 500, 'error').map((l) => l['level'])).toEqual(['error']);
  });

  it('echo a caller correlation id that is a UUID', () => {
    const headers: Record<string, string> = {};
    const given = '0190b5c4-7d2e-7a11-8c3b-1f2e3d4c5b6a';
    const request = { headers: { [CORRELATION_HEADER]: given }, originalUrl: '/x', method: 'GET' } as unknown as Request;
    const response = Object.assign(new EventEmitter(), { statusCode: 200, setHeader: (k: string, v: string) => (headers[k] = v) }) as unknown as Response;
    requestLogging()(request, response, () => undefined);
    expect(headers[CORRELATION_HEADER]).toBe(given);
  });
});
