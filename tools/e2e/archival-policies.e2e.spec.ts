import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHIVAL_TIMERS, ArchivalModule } from '@mrw/archival';
import { DeployerModule } from '@mrw/deployer';
import { eventually } from '@mrw/messaging/testing';
import type { DurableTimers } from '@mrw/platform';
import { SkippingClock, startRegistry, type RegistryHarness } from '@mrw/registry/testing';

const FIXTURES = join(__dirname, '../../libs/evaluator/fixtures');
const HOUR = 3_600_000;

/**
 * Archival policies driven by an injected clock: supersededAfter to the millisecond and across a
 * restart, live-metric windows (a short dip archives nothing; a sustained one on the serving
 * version raises LiveMetricBreached and archives nothing), and preview and backtest agreeing
 * with what happens.
 */
describe('archival policies on an injected clock', () => {
  let dataDir: string;
  let clock: SkippingClock;
  let suite: RegistryHarness | undefined;

  const start = async (): Promise<RegistryHarness> => {
    suite = await startRegistry({ dataDir, clock, modules: [DeployerModule, ArchivalModule], env: { MRW_EVALUATOR_THREADS: '1' } });
    return suite;
  };
  const timersOf = (harness: RegistryHarness): DurableTimers => harness.app.get<DurableTimers>(ARCHIVAL_TIMERS, { strict: false });
  const upload = async (harness: RegistryHarness, fixture: string): Promise<string> => {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(join(FIXTURES, fixture))]), fixture);
    const response = await fetch(`${harness.baseUrl}/api/v1/artifacts`, { method: 'POST', headers: { authorization: `Bearer ${harness.adminToken}` }, body: form });
    return ((await response.json()) as { uri: string }).uri;
  };
  const stageOf = async (harness: RegistryHarness, model: string, version: number): Promise<string> =>
    (await harness.http('GET', `/api/v1/models/${model}/versions/${version}`)).body.stage as string;
  /** Registers a version and takes it to Production (no approval needed): it serves on the local runtime. */
  const serve = async (harness: RegistryHarness, model: string, uri: string): Promise<number> => {
    const version = (await harness.http('POST', `/api/v1/models/${model}/versions`, { body: { source: uri } })).body.version as number;
    await harness.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Staging' } });
    await harness.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { body: { toStage: 'Production' } });
    await eventually(async () => (await harness.http('GET', `/api/v1/models/${model}`)).body.servingVersion === version, { timeoutMs: 60_000, what: `${model} v${version} serving` });
    return version;
  };
  const model = async (harness: RegistryHarness, name: string, archival: Record<string, unknown>) => {
    await harness.http('POST', '/api/v1/models', { body: { name } });
    const set = await harness.http('PUT', `/api/v1/models/${name}/policy`, {
      body: {
        approval: { Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' } },
        deployment: { targets: [{ kind: 'local', environment: `${name}-production` }] },
        archival,
      },
    });
    expect(set.status).toBe(200);
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mrw-archival-'));
    clock = new SkippingClock();
  });

  afterEach(async () => {
    await suite?.close();
    suite = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('archives a superseded version exactly at supersededAfter, not a tick before, also across a restart just before it', async () => {
    const harness = await start();
    await model(harness, 'retiring', { supersededAfter: 'PT1H' });
    const uri = await upload(harness, 'breast-cancer-logreg.onnx');
    await serve(harness, 'retiring', uri);
    await serve(harness, 'retiring', uri);

    const preview = await harness.http('GET', '/api/v1/archival/preview?model=retiring');
    expect(preview.status).toBe(200);
    const next = (preview.body.upcoming as Array<{ version: number; rule: string; dueAt: string }>).find((c) => c.version === 1);
    expect(next).toMatchObject({ version: 1, rule: 'supersededAfter' });
    const dueAt = Date.parse(next!.dueAt);

    // A second before: nothing. Then the process stops.
    clock.skip(dueAt - clock.now().getTime() - 1_000);
    await timersOf(harness).wake();
    expect(await stageOf(harness, 'retiring', 1)).toBe('Production');
    await harness.close({ keepData: true });
    suite = undefined;

    // It comes back after the due time: archived once, late — not never, not twice.
    clock.skip(5_000);
    const restarted = await start();
    await eventually(async () => (await stageOf(restarted, 'retiring', 1)) === 'Archived', { timeoutMs: 30_000, what: 'v1 archived after the restart' });
    const audit = (await restarted.http('GET', '/api/v1/models/retiring/versions/1/audit')).body.events as Array<{ type: string; data: any; occurredAt: string }>;
    const archived = audit.filter((e) => e.type === 'StageTransitioned' && e.data.toStage === 'Archived');
    expect(archived).toHaveLength(1);
    expect(archived[0]!.data.trigger).toMatchObject({ kind: 'archival', rule: 'supersededAfter', parameters: { supersededAfter: 'PT1H' } });
    expect(archived[0]!.data.trigger.evidence).toEqual(expect.objectContaining({ supersededBy: 2 }));
    expect(Date.parse(archived[0]!.occurredAt)).toBeGreaterThanOrEqual(dueAt);
    expect(await stageOf(restarted, 'retiring', 2)).toBe('Production');

    // Archived is not gone: the version rolls back (rule 4.8) and serves again.
    const rollback = await restarted.http('POST', '/api/v1/models/retiring/rollback', { body: { reason: 'v2 regressed', emergency: true } });
    expect(rollback.status).toBe(202);
    expect(rollback.body.rollback).toMatchObject({ toVersion: 1 });
    await eventually(async () => (await restarted.http('GET', '/api/v1/models/retiring')).body.servingVersion === 1, { timeoutMs: 60_000, what: 'v1 serving again' });
  });

  it('raises LiveMetricBreached for a sustained dip on the serving version and archives nothing; a short dip does nothing', async () => {
    const harness = await start();
    await model(harness, 'watched', { liveMetric: { metric: 'accuracy', below: 0.8, for: 'PT10M', minSamples: 3 } });
    const uri = await upload(harness, 'breast-cancer-logreg.onnx');
    const version = await serve(harness, 'watched', uri);
    const at = (minutesAgo: number) => new Date(clock.now().getTime() - minutesAgo * 60_000).toISOString();

    // A five-minute dip, then good again: no breach.
    const short = await harness.http('POST', '/api/v1/models/watched/live-metrics', {
      body: [0, 1, 2, 3, 4, 5].map((m) => ({ version, metric: 'accuracy', value: m < 5 ? 0.7 : 0.9, at: at(30 - m) })),
    });
    expect(short.body).toMatchObject({ accepted: 6 });
    expect(short.status).toBe(202);
    expect((await harness.http('GET', '/api/v1/archival/preview?model=watched')).body.breaches).toEqual([]);

    // Below for longer than the window.
    const dip = await harness.http('POST', '/api/v1/models/watched/live-metrics', {
      body: [12, 9, 6, 3, 0].map((m) => ({ version, metric: 'accuracy', value: 0.6, at: at(m), count: 100 })),
    });
    expect(dip.status).toBe(202);
    await timersOf(harness).wake();
    const breached = await eventually(
      async () => {
        const state = (await harness.http('GET', `/api/v1/models/watched/versions/${version}/audit`)).body.events as Array<{ type: string; data: any }>;
        return state.find((e) => e.type === 'LiveMetricBreached');
      },
      { timeoutMs: 20_000, what: 'LiveMetricBreached' },
    );
    expect(breached.data).toMatchObject({ metric: 'accuracy', direction: 'below', threshold: 0.8, window: { for: 'PT10M' } });
    expect(await stageOf(harness, 'watched', version)).toBe('Production');

    // Malformed batches are refused whole.
    const bad = await harness.http('POST', '/api/v1/models/watched/live-metrics', { body: [{ version, metric: 'accuracy', value: 0.9, at: at(0) }, { version: 99, metric: 'accuracy', value: 1, at: at(0) }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: '[1].version' })]);
  });

  it('backtests a proposed policy over the history, agreeing with what then happens', async () => {
    const harness = await start();
    await model(harness, 'tried', {});
    const uri = await upload(harness, 'breast-cancer-logreg.onnx');
    for (let i = 0; i < 4; i += 1) await harness.http('POST', '/api/v1/models/tried/versions', { body: { source: uri } });
    clock.skip(2 * HOUR);
    const backtest = await harness.http('POST', '/api/v1/archival/backtest', { body: { model: 'tried', policy: { archival: { staleAfter: 'PT1H', keepAtMost: 10 } } } });
    expect(backtest.status).toBe(200);
    const archivedByBacktest = (backtest.body.archived as Array<{ version: number; rule: string }>).map((a) => `${a.version}:${a.rule}`).sort();
    expect(archivedByBacktest).toEqual(['1:staleAfter', '2:staleAfter', '3:staleAfter', '4:staleAfter']);
    // Nothing changed yet: the model's own policy archives nothing.
    expect((await harness.http('GET', '/api/v1/archival/preview?model=tried')).body.due).toEqual([]);
    // Set it: what happens is what the backtest said (the due archivals run at once).
    const set = await harness.http('PUT', '/api/v1/models/tried/policy', { body: { archival: { staleAfter: 'PT1H', keepAtMost: 10 } } });
    expect(set.status).toBe(200);
    const happened = await eventually(
      async () => {
        const rules: string[] = [];
        for (const version of [1, 2, 3, 4]) {
          const events = (await harness.http('GET', `/api/v1/models/tried/versions/${version}/audit`)).body.events as Array<{ type: string; data: any }>;
          const archived = events.find((e) => e.type === 'StageTransitioned' && e.data.toStage === 'Archived');
          if (!archived) return undefined;
          rules.push(`${version}:${archived.data.trigger.rule}`);
        }
        return rules.sort();
      },
      { timeoutMs: 20_000, what: 'the four archivals' },
    );
    expect(happened).toEqual(archivedByBacktest);
    expect((await harness.http('GET', '/api/v1/archival/preview?model=tried')).body.due).toEqual([]);
    const invalid = await harness.http('POST', '/api/v1/archival/backtest', { body: { model: 'tried', policy: { archival: { staleAfter: 'soon' } } } });
    expect(invalid.status).toBe(400);
  });
});

describe('archival policies on the real clock (PT5S)', () => {
  let suite: RegistryHarness;

  beforeAll(async () => {
    suite = await startRegistry({ modules: [DeployerModule, ArchivalModule] });
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('archives a superseded version and a stale one five seconds on, not before, and says why', async () => {
    await suite.http('POST', '/api/v1/models', { body: { name: 'quick' } });
    await suite.http('PUT', '/api/v1/models/quick/policy', {
      body: {
        approval: { Production: { required: 0, reviewers: ['role:reviewer'], expiresIn: 'P1D' } },
        deployment: { targets: [{ kind: 'local', environment: 'quick-production' }] },
        archival: { supersededAfter: 'PT5S', staleAfter: 'PT5S' },
      },
    });
    const form = new FormData();
    form.append('file', new Blob([readFileSync(join(FIXTURES, 'breast-cancer-logreg.onnx'))]), 'model.onnx');
    const uri = ((await (await fetch(`${suite.baseUrl}/api/v1/artifacts`, { method: 'POST', headers: { authorization: `Bearer ${suite.adminToken}` }, body: form })).json()) as { uri: string }).uri;
    for (const version of [1, 2]) {
      await suite.http('POST', '/api/v1/models/quick/versions', { body: { source: uri } });
      await suite.http('POST', `/api/v1/models/quick/versions/${version}/transitions`, { body: { toStage: 'Staging' } });
      await suite.http('POST', `/api/v1/models/quick/versions/${version}/transitions`, { body: { toStage: 'Production' } });
      await eventually(async () => (await suite.http('GET', '/api/v1/models/quick')).body.servingVersion === version, { timeoutMs: 60_000, what: `v${version} serving` });
    }
    const supersededAt = Date.now();
    // v3 stays in None.
    await suite.http('POST', '/api/v1/models/quick/versions', { body: { source: uri } });
    const registeredAt = Date.now();
    const preview = (await suite.http('GET', '/api/v1/archival/preview?model=quick')).body;
    expect(preview.upcoming.map((c: { version: number; rule: string }) => `${c.version}:${c.rule}`).sort()).toEqual(['1:supersededAfter', '3:staleAfter']);

    const archivedAt = async (version: number) =>
      eventually(
        async () => {
          const events = (await suite.http('GET', `/api/v1/models/quick/versions/${version}/audit`)).body.events as Array<{ type: string; data: any; occurredAt: string }>;
          return events.find((e) => e.type === 'StageTransitioned' && e.data.toStage === 'Archived');
        },
        { timeoutMs: 15_000, what: `v${version} archived` },
      );
    const first = await archivedAt(1);
    const third = await archivedAt(3);
    expect(first.data.trigger).toMatchObject({ kind: 'archival', rule: 'supersededAfter' });
    expect(third.data.trigger).toMatchObject({ kind: 'archival', rule: 'staleAfter' });
    // On time: not before the five seconds, within about a second after.
    expect(Date.parse(first.occurredAt) - supersededAt).toBeGreaterThanOrEqual(4_000);
    expect(Date.parse(first.occurredAt) - supersededAt).toBeLessThan(7_500);
    expect(Date.parse(third.occurredAt) - registeredAt).toBeGreaterThanOrEqual(4_000);
    expect(Date.parse(third.occurredAt) - registeredAt).toBeLessThan(7_500);
    expect((await suite.http('GET', '/api/v1/models/quick/versions/2')).body.stage).toBe('Production');
  });
});
