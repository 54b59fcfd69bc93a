import type { OutboundHttp } from '@mrw/outbound';
import type { DeploymentTargetKind, TargetTrigger, TriggerResult } from './deployment-target';
import { baseUrl, credentialFrom, deploymentFacts, REDACTED, redactCallback, sendToTarget, textSetting, type TargetEnvironment } from './target-http';

const KIND = 'gitlab';

/**
 * GitLab's pipeline trigger API: `POST {apiUrl}/api/v4/projects/{project}/trigger/pipeline`,
 * form-encoded `token`, `ref` and `variables[KEY]` (as GitLab documents it): `DEPLOYMENT_ID`,
 * `MODEL`, `VERSION`, `ARTIFACT_URI`, `ARTIFACT_DIGEST`, `CALLBACK_URL`. The trigger token comes
 * from the environment variable `tokenEnv` names. GitLab answers 201. Settings: `project` (id or
 * `group/name`), `ref` (default `main`), `apiUrl` (default `https://gitlab.com`), `tokenEnv`.
 */
export class GitLabTarget implements DeploymentTargetKind {
  readonly kind = KIND;

  constructor(
    private readonly http: OutboundHttp,
    private readonly env: TargetEnvironment,
  ) {}

  async trigger(request: TargetTrigger): Promise<TriggerResult> {
    const { settings } = request;
    const project = String(settings['project'] ?? settings['projectId'] ?? '');
    const ref = textSetting(settings, KIND, 'ref', 'main');
    const api = baseUrl(textSetting(settings, KIND, 'apiUrl', 'https://gitlab.com'));
    const url = `${api}/api/v4/projects/${encodeURIComponent(textSetting({ project }, KIND, 'project'))}/trigger/pipeline`;
    const facts = deploymentFacts(request);
    const variables = Object.fromEntries(Object.entries(facts).map(([name, value]) => [name.toUpperCase(), value]));
    const form = (token: string, callback: string) => {
      const body = new URLSearchParams({ token, ref });
      for (const [name, value] of Object.entries(variables)) body.append(`variables[${name}]`, name === 'CALLBACK_URL' ? callback : value);
      return body;
    };
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const sent = {
      method: 'POST',
      url,
      headers,
      body: Object.fromEntries(form(REDACTED, redactCallback(facts['callback_url'] ?? '')).entries()),
    };
    const body = form(credentialFrom(this.env, settings, KIND), facts['callback_url'] ?? '').toString();
    const response = await sendToTarget(this.http, KIND, { method: 'POST', url, headers, body, signal: request.signal }, sent);
    return { outcome: 'triggered', sent, response };
  }
}
