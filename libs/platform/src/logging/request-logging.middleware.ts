import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isUuid } from '@mrw/contracts';
import { inNewLogContext, loggerFor } from '@mrw/logging';
import type { AuthPrincipal } from '../auth/principal';

export const CORRELATION_HEADER = 'x-correlation-id';

/** Probes and scrapes would drown the access log at info; they are logged at debug. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

type AccessLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * An access line's level: a probe that finds the service well at debug; a readiness probe's 503
 * (starting, catching up, a dependency away: the probe doing its job, asked every few seconds)
 * at warn; any other 5xx at error; the rest at info.
 */
export const accessLevelOf = (path: string, status: number): AccessLevel => {
  if (PROBES.has(path) && status < 400) return 'debug';
  if (path === '/readyz' && status === 503) return 'warn';
  return status >= 500 ? 'error' : 'info';
};

const log = loggerFor('http');

/**
 * The first middleware of every HTTP service. It decides the request's correlation id (the
 * caller's `x-correlation-id` when it is a UUID, else a fresh one), echoes it in the response,
 * runs the rest of the request in a log context carrying it, and writes one access line when
 * the response is finished. Headers and bodies are never logged.
 */
export const requestLogging = () => (request: Request, response: Response, next: NextFunction): void => {
  const started = process.hrtime.bigint();
  const given = request.headers[CORRELATION_HEADER];
  const correlationId = typeof given === 'string' && isUuid(given) ? given : randomUUID();
  // Decided once, here: command handlers read the same id from the header, so the events a
  // request appends carry the id its log lines and its response show.
  request.headers[CORRELATION_HEADER] = correlationId;
  response.setHeader(CORRELATION_HEADER, correlationId);
  const path = request.originalUrl.split('?')[0] ?? '';
  const method = request.method;
  const accessLine = (aborted: boolean): void => {
    const status = response.statusCode;
    const level = accessLevelOf(path, status);
    // At a level that drops the line, nothing is composed (a load test runs at `error`).
    if (!log.enabled(level)) return;
    const route = (request.route as { path?: string } | undefined)?.path;
    const principal = (request as Request & { principal?: AuthPrincipal }).principal;
    const fields = {
      method,
      route: route === undefined ? null : `${request.baseUrl}${route}`,
      path,
      status,
      durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
      ...(principal ? { actor: `${principal.actor.kind}:${principal.actor.id}` } : {}),
      ...(aborted ? { aborted: true } : {}),
    };
    inNewLogContext({ correlationId }, () => log[level](fields, `${method} ${path} ${status}`));
  };
  let finished = false;
  response.once('finish', () => {
    finished = true;
    accessLine(false);
  });
  response.once('close', () => {
    if (!finished) accessLine(true);
  });
  inNewLogContext({ correlationId }, next);
};
