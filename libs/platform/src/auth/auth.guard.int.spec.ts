/**
 * Two processes sharing one PostgreSQL event store (registry replicas behind one load
 * balancer): a token issued through one is accepted by the other at once. The server comes
 * from MRW_POSTGRES_URL (tools/jest/global-setup.js), else the test is reported SKIPPED.
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PostgresEventStore } from '@mrw/event-store';
import { describeWithPostgres, dropTestSchema, testEvent, uniqueSchema } from '@mrw/event-store/testing';
import { Readiness } from '../observability/readiness';
import { noteLogHead } from '../persistence/request-log-head';
import { ServerSecrets } from '../secrets/server-secrets';
import { AuthGuard } from './auth.guard';
import { generateSecret, TokenDirectory } from './token-directory';
import { TokenFeed } from './token-feed';

const secrets = new ServerSecrets('k'.repeat(32));

/** What Nest hands a guard for a GET with this Authorization header, on a route with no metadata. */
const requestWith = (token: string): { context: ExecutionContext; request: { headers: Record<string, string>; principal?: unknown } } => {
  const request: { headers: Record<string, string>; principal?: unknown } = { headers: { authorization: `Bearer ${token}` } };
  const context = {
    getHandler: () => requestWith,
    getClass: () => AuthGuard,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { context, request };
};

describeWithPostgres('AuthGuard across processes sharing the log', (url) => {
  let schema: string;
  let issuing: PostgresEventStore;
  let serving: PostgresEventStore;
  let feed: TokenFeed;
  let guard: AuthGuard;

  beforeEach(async () => {
    schema = uniqueSchema();
    issuing = await PostgresEventStore.open({ connectionString: url, schema, poolSize: 2 });
    serving = await PostgresEventStore.open({ connectionString: url, schema, poolSize: 2 });
    const directory = new TokenDirectory(secrets);
    feed = new TokenFeed(serving, directory, new Readiness());
    await feed.onModuleInit();
    // As on PostgreSQL, where replicas share the log.
    guard = new AuthGuard(new Reflector(), directory, feed, true);
  });

  afterEach(async () => {
    await feed.onApplicationShutdown();
    await Promise.all([issuing.close(), serving.close()]);
    await dropTestSchema(url, schema);
  });

  /** What the registry appends when it issues a token (credential first, then the token), here through the other process's store. */
  const issueElsewhere = async (secret: string, subject: string): Promise<string> => {
    const tokenId = randomUUID();
    await issuing.appendToStream(
      `tokenCredential-${tokenId}`,
      [testEvent('AccessTokenCredentialStored', { tokenId, scheme: 'hmac-sha256', verifier: secrets.tokenVerifier(secret) }, 'registry')],
      { expectedRevision: 'no_stream' },
    );
    await issuing.appendToStream(
      `accessToken-${tokenId}`,
      [testEvent('AccessTokenIssued', { tokenId, subject, kind: 'user', roles: ['viewer'], models: [] }, 'registry')],
      { expectedRevision: 'no_stream' },
    );
    return tokenId;
  };

  it('accepts a token the other process issued a moment ago: it reads the newest tokens before refusing one it does not know', async () => {
    const secret = generateSecret();
    await issueElsewhere(secret, 'carol');
    // Asked at once, before this process was told of the append.
    const { context, request } = requestWith(secret);
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request.principal).toMatchObject({ actor: { kind: 'user', id: 'carol' }, roles: ['viewer'] });
  });

  it('refuses at once a token the other process revoked a moment ago', async () => {
    const secret = generateSecret();
    const tokenId = await issueElsewhere(secret, 'carol');
    await expect(guard.canActivate(requestWith(secret).context)).resolves.toBe(true);
    await issuing.appendToStream(`accessToken-${tokenId}`, [testEvent('AccessTokenRevoked', { tokenId }, 'admin')], { expectedRevision: 0 });
    await expect(guard.canActivate(requestWith(secret).context)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('catches up to the head the request noted already (one head read per request), and sees every token up to it', async () => {
    const secret = generateSecret();
    await issueElsewhere(secret, 'carol');
    const { context, request } = requestWith(secret);
    const head = await issuing.headPosition();
    noteLogHead(request, head);
    const catchingUp = jest.spyOn(feed, 'caughtUp');
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request.principal).toMatchObject({ actor: { kind: 'user', id: 'carol' } });
    expect(catchingUp.mock.calls).toEqual([[head]]);
  });

  it('still refuses a token nobody issued, once it has read the log', async () => {
    await issueElsewhere(generateSecret(), 'carol');
    await expect(guard.canActivate(requestWith(generateSecret()).context)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
