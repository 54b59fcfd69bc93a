import type { ApprovalRule, LiveMetricRule, ModelPolicy } from '@mrw/contracts';
import { validatePolicy } from './validate-policy';

const VALID: ModelPolicy = {
  evaluation: {
    set: 'churn-holdout',
    setVersion: 'sha256:2735725cc4df17d752fe892db0428df4f94ee61daba771fbed4b228f28af7cbb',
    thresholds: {
      accuracy: { threshold: 0.85, greaterIsBetter: true },
      roc_auc: { minAbsoluteChange: 0, requireConfidenceBound: true },
      log_loss: { threshold: 0.35, minRelativeChange: 0.02 },
      f1_macro: { threshold: 0.8 },
    },
  },
  approval: {
    Production: { required: 2, reviewers: ['role:reviewer', 'user:carol'], expiresIn: 'P3D' },
    Rollback: { required: 1, reviewers: ['role:deployer'], expiresIn: 'PT4H' },
  },
  deployment: { targets: [{ kind: 'kubernetes', environment: 'production', namespace: 'ml-serving' }] },
  archival: { supersededAfterDays: 30, archivePreviousOnSuccess: false },
  rollback: { required: 1, allowEmergency: true },
};

const withThreshold = (metric: string, rule: object): ModelPolicy => ({ evaluation: { set: 'churn-holdout', thresholds: { [metric]: rule } } });
const withApproval = (rule: Partial<ApprovalRule>): ModelPolicy => ({
  approval: { Production: { required: 1, reviewers: ['role:reviewer'], expiresIn: 'P3D', ...rule } },
});
const fields = (policy: ModelPolicy): string[] => validatePolicy(policy).map((p) => p.field);

describe('validatePolicy', () => {
  it('finds nothing wrong with a complete, sensible policy', () => {
    expect(validatePolicy(VALID)).toEqual([]);
  });

  it('finds nothing wrong with an empty policy: every part is optional', () => {
    expect(validatePolicy({})).toEqual([]);
  });

  describe('evaluation', () => {
    it('refuses a metric the evaluator does not compute, naming the known ones', () => {
      const [problem, ...rest] = validatePolicy(withThreshold('acuracy', { threshold: 0.9 }));
      expect(rest).toEqual([]);
      expect(problem?.field).toBe('evaluation.thresholds.acuracy');
      expect(problem?.message).toMatch(/^unknown metric acuracy; known: accuracy, balanced_accuracy, /);
    });

    it('refuses a metric rule without any number to check', () => {
      expect(validatePolicy(withThreshold('accuracy', { greaterIsBetter: true }))).toEqual([
        { field: 'evaluation.thresholds.accuracy', message: 'give at least one of threshold, minAbsoluteChange, minRelativeChange' },
      ]);
    });

    it.each(['threshold', 'minAbsoluteChange', 'minRelativeChange'])('refuses a %s that is not a finite number', (key) => {
      expect(fields(withThreshold('accuracy', { [key]: Number.NaN }))).toEqual([`evaluation.thresholds.accuracy.${key}`]);
      expect(fields(withThreshold('accuracy', { [key]: Infinity }))).toEqual([`evaluation.thresholds.accuracy.${key}`]);
      expect(fields(withThreshold('accuracy', { [key]: '0.9' }))).toEqual([`evaluation.thresholds.accuracy.${key}`]);
    });

    it('refuses requireConfidenceBound without a change rule to bound', () => {
      expect(validatePolicy(withThreshold('accuracy', { threshold: 0.9, requireConfidenceBound: true }))).toEqual([
        {
          field: 'evaluation.thresholds.accuracy.requireConfidenceBound',
          message: 'applies to change rules: add minAbsoluteChange or minRelativeChange',
        },
      ]);
    });

    it('refuses a set version that is not a sha256 digest', () => {
      expect(fields({ evaluation: { set: 'churn-holdout', setVersion: 'v3' } })).toEqual(['evaluation.setVersion']);
      expect(fields({ evaluation: { set: 'churn-holdout', setVersion: 'sha256:ABC' } })).toEqual(['evaluation.setVersion']);
    });
  });

  describe('approval', () => {
    it.each([-1, 1.5, 21])('refuses required = %d (an integer from 0 to 20)', (required) => {
      expect(validatePolicy(withApproval({ required }))).toContainEqual({
        field: 'approval.Production.required',
        message: 'must be an integer from 0 to 20',
      });
    });

    it('accepts required 0 (gates suffice) and 20', () => {
      expect(validatePolicy(withApproval({ required: 0 }))).toEqual([]);
      expect(validatePolicy(withApproval({ required: 20 }))).toEqual([]);
    });

    it('refuses an empty reviewer group when approvals are required, and accepts it when none are', () => {
      expect(fields(withApproval({ reviewers: [] }))).toEqual(['approval.Production.reviewers']);
      expect(validatePolicy(withApproval({ required: 0, reviewers: [] }))).toEqual([]);
    });

    it.each(['role:superuser', 'carol', 'user:', 'user:carol smith', 'group:ml-leads'])(
      'refuses the reviewer entry %s (neither role:<role> nor user:<subject>)',
      (entry) => {
        const problems = validatePolicy(withApproval({ reviewers: ['role:reviewer', entry] }));
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatchObject({ field: 'approval.Production.reviewers', message: expect.stringContaining(entry) });
      },
    );

    it.each(['three days', 'P0D', 'P', 'P1M'])('refuses expiresIn %s (a positive ISO 8601 duration)', (expiresIn) => {
      expect(fields(withApproval({ expiresIn }))).toEqual(['approval.Production.expiresIn']);
    });

    it('checks the Rollback rule like the Production rule', () => {
      expect(fields({ approval: { Rollback: { required: 30, reviewers: ['admins'], expiresIn: 'soon' } } })).toEqual([
        'approval.Rollback.required',
        'approval.Rollback.reviewers',
        'approval.Rollback.expiresIn',
      ]);
    });
  });

  it('refuses a deployment target without kind or environment', () => {
    expect(
      validatePolicy({ deployment: { targets: [{ kind: 'kubernetes', environment: 'production' }, { kind: '', environment: '' }] } }),
    ).toEqual([
      { field: 'deployment.targets[1].kind', message: 'must not be empty' },
      { field: 'deployment.targets[1].environment', message: 'must not be empty' },
    ]);
  });

  it.each([-1, 2.5])('refuses archival.supersededAfterDays = %d', (days) => {
    expect(fields({ archival: { supersededAfterDays: days } })).toEqual(['archival.supersededAfterDays']);
  });

  it('accepts archiving as soon as a newer version serves (0 days)', () => {
    expect(validatePolicy({ archival: { supersededAfterDays: 0 } })).toEqual([]);
  });

  describe('archival rules', () => {
    const rule = { metric: 'accuracy', below: 0.8, for: 'PT1H' };
    const withLive = (live: object): ModelPolicy => ({ archival: { liveMetric: { ...rule, ...live } as LiveMetricRule } });

    it('accepts every rule combined, durations from seconds to days', () => {
      expect(
        validatePolicy({
          archival: {
            supersededAfter: 'P30D',
            staleAfter: 'PT5S',
            keepAtMost: 5,
            keepRollbackTarget: false,
            liveMetric: { metric: 'p99_latency_ms', above: 250, for: 'PT10M', minSamples: 20, rollback: true },
          },
        }),
      ).toEqual([]);
      expect(validatePolicy({ archival: { liveMetric: { metric: 'http:error_ratio', below: -1.5, for: 'PT0.5S' } } })).toEqual([]);
    });

    it('still accepts the legacy supersededAfterDays, but not with supersededAfter beside it', () => {
      expect(validatePolicy({ archival: { supersededAfterDays: 7 } })).toEqual([]);
      expect(validatePolicy({ archival: { supersededAfterDays: 7, supersededAfter: 'P7D' } })).toEqual([
        { field: 'archival.supersededAfter', message: 'give supersededAfter or supersededAfterDays, not both' },
      ]);
    });

    it.each(['30 days', 'P', 'PT', 'P0D', 'PT0S', '-P1D', 'p30d', ''])('refuses supersededAfter and staleAfter = %p (a positive ISO 8601 duration)', (text) => {
      expect(fields({ archival: { supersededAfter: text, staleAfter: text } })).toEqual(['archival.supersededAfter', 'archival.staleAfter']);
    });

    it('refuses a duration that is not a string', () => {
      expect(fields({ archival: { staleAfter: 30 as unknown as string } })).toEqual(['archival.staleAfter']);
    });

    it.each([0, -1, 2.5, Number.NaN])('refuses keepAtMost = %p (a whole number, 1 or more)', (keepAtMost) => {
      expect(validatePolicy({ archival: { keepAtMost } })).toEqual([{ field: 'archival.keepAtMost', message: 'must be a whole number, 1 or more' }]);
    });

    it('refuses flags that are not booleans', () => {
      expect(fields({ archival: { keepRollbackTarget: 'no' as unknown as boolean, archivePreviousOnSuccess: 1 as unknown as boolean } })).toEqual([
        'archival.keepRollbackTarget',
        'archival.archivePreviousOnSuccess',
      ]);
      expect(fields(withLive({ rollback: 'yes' }))).toEqual(['archival.liveMetric.rollback']);
    });

    it.each(['', '9lives', 'p99 latency', 'a/b', 'x'.repeat(129)])('refuses the live metric name %p', (metric) => {
      expect(fields(withLive({ metric }))).toEqual(['archival.liveMetric.metric']);
    });

    it('accepts live metric names the evaluator does not compute (monitoring has its own)', () => {
      expect(validatePolicy(withLive({ metric: 'business.conversion-rate' }))).toEqual([]);
      expect(validatePolicy(withLive({ metric: 'x'.repeat(128) }))).toEqual([]);
    });

    it('needs exactly one of below and above', () => {
      const none: LiveMetricRule = { metric: 'accuracy', for: 'PT1H' };
      expect(validatePolicy({ archival: { liveMetric: none } })).toEqual([{ field: 'archival.liveMetric', message: 'give exactly one of below and above' }]);
      expect(fields(withLive({ above: 0.99 }))).toEqual(['archival.liveMetric']);
    });

    it.each([Number.NaN, Infinity, '0.8'])('refuses the threshold %p (a finite number)', (below) => {
      expect(fields(withLive({ below }))).toEqual(['archival.liveMetric.below']);
      expect(fields({ archival: { liveMetric: { metric: 'accuracy', above: below as number, for: 'PT1H' } } })).toEqual(['archival.liveMetric.above']);
    });

    it.each([undefined, 'PT0S', '1h', 3600])('refuses the window for = %p (a positive ISO 8601 duration)', (window) => {
      expect(fields(withLive({ for: window }))).toEqual(['archival.liveMetric.for']);
    });

    it.each([0, -3, 1.5])('refuses minSamples = %p (a whole number, 1 or more)', (minSamples) => {
      expect(fields(withLive({ minSamples }))).toEqual(['archival.liveMetric.minSamples']);
    });

    it('refuses a live metric rule that is not an object, once', () => {
      expect(fields({ archival: { liveMetric: 'accuracy<0.8' as unknown as LiveMetricRule } })).toEqual(['archival.liveMetric']);
    });
  });

  it.each([-1, 0.5, 21])('refuses rollback.required = %d', (required) => {
    expect(fields({ rollback: { required } })).toEqual(['rollback.required']);
  });

  it('reports every problem at once', () => {
    expect(
      fields({
        evaluation: { set: 'churn-holdout', thresholds: { acuracy: { threshold: 0.9 } } },
        approval: { Production: { required: -1, reviewers: ['role:reviewer'], expiresIn: 'P3D' } },
        rollback: { required: 99 },
      }),
    ).toEqual(['evaluation.thresholds.acuracy', 'approval.Production.required', 'rollback.required']);
  });

  describe('credentials are references, never values', () => {
    const target = (settings: Record<string, unknown>): ModelPolicy => ({
      deployment: { targets: [{ kind: 'github-actions', environment: 'production', ...settings }] },
    });

    it.each([
      ['apiToken', 'ghp_0123456789abcdef'],
      ['password', 'hunter2'],
      ['clientSecret', 's3cr3t'],
      ['api_key', 'k'],
      ['Authorization', 'Bearer abc'],
    ])('refuses a literal %s and says to name an environment variable instead', (key, value) => {
      const problems = validatePolicy(target({ [key]: value }));
      expect(problems).toEqual([{ field: `deployment.targets[0].${key}`, message: expect.stringContaining(`${key}Env`) }]);
    });

    it('finds a credential nested in settings and in arrays', () => {
      expect(fields(target({ settings: { auth: [{ token: 'abc' }] } }))).toEqual(['deployment.targets[0].settings.auth[0].token']);
    });

    it('refuses a URL with a user or password in it', () => {
      expect(fields(target({ apiUrl: 'https://deploy:pa55@ci.example.com/api' }))).toEqual(['deployment.targets[0].apiUrl']);
      expect(fields(target({ settings: { hooks: ['https://user@hooks.example.com/x'] } }))).toEqual([
        'deployment.targets[0].settings.hooks[0]',
      ]);
    });

    it('accepts references to environment variables and plain settings', () => {
      expect(validatePolicy(target({ tokenEnv: 'GITHUB_TOKEN', apiUrl: 'https://api.github.com', repository: 'acme/churn', verifyTls: true }))).toEqual([]);
    });

    it('refuses a reference that is not an environment variable name', () => {
      expect(fields(target({ tokenEnv: 'ghp_literal-token' }))).toEqual(['deployment.targets[0].tokenEnv']);
    });
  });

  describe('kserve targets', () => {
    const kserve = (settings: Record<string, unknown>, beside: Record<string, unknown> = {}): ModelPolicy => ({
      deployment: { targets: [{ kind: 'kserve', environment: 'production', ...beside, settings }] },
    });
    const at = (setting: string) => `deployment.targets[0].settings.${setting}`;

    it('accepts the documented settings, under settings or beside kind, and no settings at all (GitOps into default)', () => {
      expect(
        validatePolicy(
          kserve({
            namespace: 'ml-serving',
            name: 'churn-model',
            modelFormat: 'onnx',
            runtime: 'kserve-onnxruntime',
            storageUri: 's3://models/{model}/{version}/{digest}/',
            resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: 2, memory: '2Gi' } },
            serviceAccountName: 'model-puller',
            apiServer: 'https://kube.example.com:6443',
            tokenEnv: 'KUBE_TOKEN',
            caCertEnv: 'KUBE_CA',
          }),
        ),
      ).toEqual([]);
      expect(validatePolicy(kserve({}, { namespace: 'ml', apiServer: 'http://127.0.0.1:8001' }))).toEqual([]);
      expect(validatePolicy(kserve({}))).toEqual([]);
    });

    it('refuses names Kubernetes or KServe would refuse, naming the field where it was given', () => {
      expect(validatePolicy(kserve({ namespace: 'ML_Serving', name: '7-churn' }))).toEqual([
        { field: at('namespace'), message: expect.stringContaining('must be a Kubernetes namespace name') },
        { field: at('name'), message: expect.stringContaining('starting with a letter') },
      ]);
      expect(fields(kserve({}, { name: 'x'.repeat(48) }))).toEqual(['deployment.targets[0].name']);
      expect(fields(kserve({ serviceAccountName: 'Model Puller', runtime: '' }))).toEqual([at('runtime'), at('serviceAccountName')]);
    });

    it('refuses a token in the policy, and an API server that carries one or is not https', () => {
      const literal = validatePolicy(kserve({ apiServer: 'https://kube.example.com', token: 'eyJhbGciOiJSUzI1NiJ9.secret' }));
      expect(literal).toEqual([{ field: at('token'), message: expect.stringContaining('name that variable with tokenEnv') }]);
      expect(JSON.stringify(literal)).not.toContain('eyJhbGciOiJSUzI1NiJ9.secret');
      expect(fields(kserve({ apiServer: 'https://admin:pw@kube.example.com' }))).toEqual([at('apiServer')]);
      expect(validatePolicy(kserve({ apiServer: 'http://kube.example.com' }))).toEqual([
        { field: at('apiServer'), message: expect.stringContaining('must be an https URL (plain http only on loopback') },
      ]);
      expect(fields(kserve({ apiServer: 'https://kube.example.com', tokenEnv: 'kube-token' }))).toEqual([at('tokenEnv')]);
    });

    it('refuses a token or CA variable without an API server: it would be silently unused (GitOps)', () => {
      expect(validatePolicy(kserve({ tokenEnv: 'KUBE_TOKEN' }))).toEqual([{ field: at('tokenEnv'), message: expect.stringContaining('set apiServer too') }]);
    });

    it('refuses bad resources: unknown parts, non-quantities, memory in millibytes, a request above its limit', () => {
      expect(
        validatePolicy(
          kserve({
            resources: {
              requests: { cpu: 'two', memory: '512m', gpu: '1' },
              limits: { cpu: '-1' },
              extra: {},
            },
          }),
        ),
      ).toEqual([
        { field: at('resources.requests.cpu'), message: expect.stringContaining('Kubernetes quantity such as "500m"') },
        { field: at('resources.requests.memory'), message: '512m is 0.512 bytes (m is milli); write 512Mi for mebibytes' },
        { field: at('resources.requests.gpu'), message: expect.stringContaining('cpu, memory') },
        { field: at('resources.limits.cpu'), message: expect.stringContaining('Kubernetes quantity') },
        { field: at('resources.extra'), message: expect.stringContaining('requests, limits') },
      ]);
      expect(validatePolicy(kserve({ resources: { requests: { cpu: '1500m', memory: '3Gi' }, limits: { cpu: '1', memory: '3072Mi' } } }))).toEqual([
        { field: at('resources.requests.cpu'), message: '1500m is more than the limit 1: Kubernetes refuses a request above its limit' },
      ]);
      expect(fields(kserve({ resources: 'small' }))).toEqual([at('resources')]);
    });

    it('refuses a storage URI template with an unknown placeholder or no scheme, and a misspelt setting', () => {
      expect(validatePolicy(kserve({ storageUri: 's3://models/{name}/{version}' }))).toEqual([
        { field: at('storageUri'), message: 'uses the unknown placeholder {name}; known: {model}, {version}, {digest}' },
      ]);
      expect(fields(kserve({ storageUri: 'models/churn.onnx' }))).toEqual([at('storageUri')]);
      expect(validatePolicy(kserve({ namspace: 'ml' }))).toEqual([{ field: at('namspace'), message: expect.stringContaining('is not a setting of a kserve target') }]);
    });

    it('leaves other kinds\' settings to their targets', () => {
      expect(validatePolicy({ deployment: { targets: [{ kind: 'argocd', environment: 'production', settings: { namspace: 'x', resources: 'any' } }] } })).toEqual([]);
    });
  });

  it('takes a deployment timeout as a positive ISO 8601 duration', () => {
    const withTimeout = (timeout: string): ModelPolicy => ({ deployment: { targets: [{ kind: 'local', environment: 'production' }], timeout } });
    expect(validatePolicy(withTimeout('PT30M'))).toEqual([]);
    expect(fields(withTimeout('thirty minutes'))).toEqual(['deployment.timeout']);
    expect(fields(withTimeout('PT0S'))).toEqual(['deployment.timeout']);
  });

  it('takes a serving alias that could be set by hand, and refuses a reserved or malformed one', () => {
    expect(validatePolicy({ servingAlias: 'champion' })).toEqual([]);
    expect(fields({ servingAlias: 'latest' })).toEqual(['servingAlias']);
    expect(fields({ servingAlias: 'v2' })).toEqual(['servingAlias']);
    expect(fields({ servingAlias: 'blue green' })).toEqual(['servingAlias']);
  });
});
