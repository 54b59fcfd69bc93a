import type { OutboundHttp } from '@mrw/outbound';
import type { DeploymentTargetKind, SentRequest, TargetTrigger, TriggerResult } from './deployment-target';
import { baseUrl, credentialFrom, deploymentFacts, redactCallback, redactHeaders, sendToTarget, textSetting, type TargetEnvironment } from './target-http';

const KIND = 'argocd';

/**
 * Argo CD: when `versionParameter` and/or `artifactParameter` are set, first
 * `PATCH {server}/api/v1/applications/{application}` with a merge patch that sets those Helm
 * parameters of the application's source to the version and the artifact URI; then
 * `POST {server}/api/v1/applications/{application}/sync` with the deployment's facts as the
 * sync operation's `infos` (so the id, the artifact and the callback URL are on the operation a
 * PostSync hook reads). Bearer token from the environment variable `tokenEnv` names. A merge
 * patch replaces the whole `helm.parameters` list: an application that keeps other parameters
 * there should take the version through values instead. Settings: `server`, `application`,
 * `tokenEnv`, `versionParameter?`, `artifactParameter?`, `appNamespace?`.
 */
export class ArgoCdTarget implements DeploymentTargetKind {
  readonly kind = KIND;

  constructor(
    private readonly http: OutboundHttp,
    private readonly env: TargetEnvironment,
  ) {}

  async trigger(request: TargetTrigger): Promise<TriggerResult> {
    const { settings } = request;
    const server = baseUrl(textSetting(settings, KIND, 'server'));
    const application = encodeURIComponent(textSetting(settings, KIND, 'application'));
    const namespace = typeof settings['appNamespace'] === 'string' ? `?appNamespace=${encodeURIComponent(settings['appNamespace'])}` : '';
    const headers = { authorization: `Bearer ${credentialFrom(this.env, settings, KIND)}`, 'content-type': 'application/json' };
    const facts = deploymentFacts(request);

    const parameters = [
      ...(typeof settings['versionParameter'] === 'string' ? [{ name: settings['versionParameter'], value: String(request.version) }] : []),
      ...(typeof settings['artifactParameter'] === 'string' ? [{ name: settings['artifactParameter'], value: request.artifactUri }] : []),
    ];
    const sentRequests: SentRequest[] = [];
    if (parameters.length > 0) {
      const url = `${server}/api/v1/applications/${application}${namespace}`;
      const body = { name: decodeURIComponent(application), patchType: 'merge', patch: JSON.stringify({ spec: { source: { helm: { parameters } } } }) };
      const sent = { method: 'PATCH', url, headers: redactHeaders(headers), body };
      sentRequests.push(sent);
      await sendToTarget(this.http, KIND, { method: 'PATCH', url, headers, body: JSON.stringify(body), signal: request.signal }, sent);
    }
    const url = `${server}/api/v1/applications/${application}/sync${namespace}`;
    const infos = (callback: string) => Object.entries({ ...facts, callback_url: callback }).map(([name, value]) => ({ name, value }));
    const body = (callback: string) => ({ name: decodeURIComponent(application), prune: false, dryRun: false, infos: infos(callback) });
    const sync = { method: 'POST', url, headers: redactHeaders(headers), body: body(redactCallback(facts['callback_url'] ?? '')) };
    sentRequests.push(sync);
    const sent: SentRequest = sentRequests.length === 1 ? sync : { method: 'PATCH+POST', url, headers: sync.headers, body: sentRequests };
    const response = await sendToTarget(
      this.http,
      KIND,
      { method: 'POST', url, headers, body: JSON.stringify(body(facts['callback_url'] ?? '')), signal: request.signal },
      sent,
    );
    return { outcome: 'triggered', sent, response };
  }
}
