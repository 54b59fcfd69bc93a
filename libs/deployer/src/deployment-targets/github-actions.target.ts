import type { OutboundHttp } from '@mrw/outbound';
import type { DeploymentTargetKind, TargetTrigger, TriggerResult } from './deployment-target';
import { baseUrl, credentialFrom, deploymentFacts, redactCallback, redactHeaders, sendToTarget, textSetting, type TargetEnvironment } from './target-http';

const KIND = 'github-actions';

/**
 * GitHub Actions `workflow_dispatch`: `POST {apiUrl}/repos/{repository}/actions/workflows/{workflow}/dispatches`
 * with `{ref, inputs}` (inputs are strings: the deployment id, model, version, artifact URI and
 * digest, callback URL), a bearer token from the environment variable `tokenEnv` names. GitHub
 * answers 204; the workflow reports its outcome to the callback URL. Settings: `repository`
 * (`owner/name`), `workflow` (file name or id), `ref` (default `main`), `apiUrl` (default
 * `https://api.github.com`; GitHub Enterprise Server: `https://HOST/api/v3`), `tokenEnv`.
 */
export class GitHubActionsTarget implements DeploymentTargetKind {
  readonly kind = KIND;

  constructor(
    private readonly http: OutboundHttp,
    private readonly env: TargetEnvironment,
  ) {}

  async trigger(request: TargetTrigger): Promise<TriggerResult> {
    const { settings } = request;
    const repository = textSetting(settings, KIND, 'repository');
    const workflow = textSetting(settings, KIND, 'workflow');
    const ref = textSetting(settings, KIND, 'ref', 'main');
    const api = baseUrl(textSetting(settings, KIND, 'apiUrl', 'https://api.github.com'));
    const url = `${api}/repos/${repository.split('/').map(encodeURIComponent).join('/')}/actions/workflows/${encodeURIComponent(workflow)}/dispatches`;
    const inputs = deploymentFacts(request);
    const headers = {
      authorization: `Bearer ${credentialFrom(this.env, settings, KIND)}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'content-type': 'application/json',
    };
    const sent = { method: 'POST', url, headers: redactHeaders(headers), body: { ref, inputs: { ...inputs, callback_url: redactCallback(inputs.callback_url ?? '') } } };
    const response = await sendToTarget(this.http, KIND, { method: 'POST', url, headers, body: JSON.stringify({ ref, inputs }), signal: request.signal }, sent);
    return { outcome: 'triggered', sent, response };
  }
}
