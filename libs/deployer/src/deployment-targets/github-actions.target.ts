import type { OutboundHttp } from '@mrw/outbound';
import { parseTimeout } from '../trigger-deployments/deployment-timers';
import { TargetRefusedError, TargetUnavailableError, type DeploymentTargetKind, type EarlierAttempts, type FoundTrigger, type TargetTrigger, type TriggerResult } from './deployment-target';
import { baseUrl, callTarget, credentialFrom, deploymentFacts, redactCallback, redactHeaders, sendToTarget, textSetting, type TargetEnvironment } from './target-http';

const KIND = 'github-actions';

/**
 * GitHub Actions `workflow_dispatch`: `POST {apiUrl}/repos/{repository}/actions/workflows/{workflow}/dispatches`
 * with `{ref, inputs}` (inputs are strings: the deployment id, model, version, artifact URI and
 * digest, callback URL), a bearer token from the environment variable `tokenEnv` names. GitHub
 * answers 204; the workflow reports its outcome to the callback URL. Settings: `repository`
 * (`owner/name`), `workflow` (file name or id), `ref` (default `main`), `apiUrl` (default
 * `https://api.github.com`; GitHub Enterprise Server: `https://HOST/api/v3`), `tokenEnv`,
 * `runAppearsWithin` (default `PT10S`).
 *
 * GitHub's dispatch API takes no idempotency key. So that a crash between a dispatch and its
 * record does not start the workflow twice, a workflow whose `run-name` shows the deployment id
 * (`run-name: Deploy ${{ inputs.model }} v${{ inputs.version }} (${{ inputs.deployment_id }})`)
 * is looked for among the workflow's recent runs before dispatching again.
 */
export class GitHubActionsTarget implements DeploymentTargetKind {
  readonly kind = KIND;

  constructor(
    private readonly http: OutboundHttp,
    private readonly env: TargetEnvironment,
  ) {}

  async trigger(request: TargetTrigger): Promise<TriggerResult> {
    const { settings } = request;
    const ref = textSetting(settings, KIND, 'ref', 'main');
    const url = `${this.workflowUrl(request)}/dispatches`;
    const inputs = deploymentFacts(request);
    const headers = { ...this.headers(request), 'content-type': 'application/json' };
    const sent = { method: 'POST', url, headers: redactHeaders(headers), body: { ref, inputs: { ...inputs, callback_url: redactCallback(inputs.callback_url ?? '') } } };
    const response = await sendToTarget(this.http, KIND, { method: 'POST', url, headers, body: JSON.stringify({ ref, inputs }), signal: request.signal }, sent);
    return { outcome: 'triggered', sent, response };
  }

  /**
   * The run an earlier dispatch of this deployment started: the workflow's `workflow_dispatch`
   * runs created since the first attempt (a minute's slack for clocks), matched by the deployment
   * id in their title. GitHub lists a run a few seconds after accepting its dispatch, so until
   * `runAppearsWithin` after the latest attempt it cannot tell yet (retried). A run list it
   * refuses to show (a token without `actions: read`) cannot tell: dispatched again.
   */
  async findTriggered(request: TargetTrigger, since: EarlierAttempts): Promise<FoundTrigger | undefined> {
    const settle = parseTimeout(textSetting(request.settings, KIND, 'runAppearsWithin', 'PT10S')) ?? 10_000;
    if (since.now.getTime() < Date.parse(since.last) + settle) {
      throw new TargetUnavailableError(`${KIND}: a dispatch may have left before the restart; GitHub lists its run within ${settle / 1000} s, so the deployer looks then`);
    }
    const created = new Date(Date.parse(since.first) - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const url = `${this.workflowUrl(request)}/runs?event=workflow_dispatch&created=${encodeURIComponent(`>=${created}`)}&per_page=100`;
    const headers = this.headers(request);
    const sent = { method: 'GET', url, headers: redactHeaders(headers), body: null };
    let text: string;
    try {
      ({ text } = await callTarget(this.http, KIND, { method: 'GET', url, headers, body: '', signal: request.signal }, sent, { maxBytes: 4 * 1024 * 1024 }));
    } catch (error) {
      if (error instanceof TargetRefusedError) return undefined;
      throw error;
    }
    let runs: unknown;
    try {
      runs = (JSON.parse(text) as { workflow_runs?: unknown }).workflow_runs;
    } catch {
      return undefined;
    }
    if (!Array.isArray(runs)) return undefined;
    const run = runs.find(
      (r): r is { id: number; html_url?: string; display_title: string } =>
        typeof r === 'object' && r !== null && typeof (r as { display_title?: unknown }).display_title === 'string' && (r as { display_title: string }).display_title.includes(request.deploymentId),
    );
    if (!run) return undefined;
    return { sent, response: { status: 200, answer: `run ${run.id} "${run.display_title}"${run.html_url ? ` ${run.html_url}` : ''} started by an earlier dispatch` } };
  }

  private workflowUrl(request: TargetTrigger): string {
    const repository = textSetting(request.settings, KIND, 'repository');
    const workflow = textSetting(request.settings, KIND, 'workflow');
    const api = baseUrl(textSetting(request.settings, KIND, 'apiUrl', 'https://api.github.com'));
    return `${api}/repos/${repository.split('/').map(encodeURIComponent).join('/')}/actions/workflows/${encodeURIComponent(workflow)}`;
  }

  private headers(request: TargetTrigger): Record<string, string> {
    return {
      authorization: `Bearer ${credentialFrom(this.env, request.settings, KIND)}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
    };
  }
}
