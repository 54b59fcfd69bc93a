import type { OutboundHttp } from '@mrw/outbound';
import type { KServeSettings } from '@mrw/contracts';
import { TargetRefusedError, TargetUnavailableError, type DeploymentTargetKind, type SentRequest, type TargetTrigger, type TriggerResult } from './deployment-target';
import { inferenceServiceRef, KSERVE_API_VERSION, KSERVE_KIND, kserveSettingsOf, renderInferenceService } from './kserve-manifest';
import { callTarget, credentialFrom, redactCallback, redactHeaders, type TargetEnvironment } from './target-http';

/** Who owns the fields the deployer applies (Kubernetes server-side apply). */
export const KSERVE_FIELD_MANAGER = 'mrw-deployer';

// An InferenceService with its managed fields and status is a few kilobytes; a megabyte is plenty.
const MAX_OBJECT_BYTES = 1024 * 1024;

/** The parts of an InferenceService the deployer reads back. */
interface AppliedObject {
  readonly metadata?: { readonly generation?: unknown };
  readonly status?: {
    readonly observedGeneration?: unknown;
    readonly url?: unknown;
    readonly address?: { readonly url?: unknown };
    readonly conditions?: ReadonlyArray<{ readonly type?: unknown; readonly status?: unknown; readonly reason?: unknown; readonly message?: unknown }>;
    readonly modelStatus?: {
      readonly transitionStatus?: unknown;
      readonly states?: { readonly targetModelState?: unknown };
      readonly lastFailureInfo?: { readonly reason?: unknown; readonly message?: unknown };
    };
  };
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The `message` of a Kubernetes `Status` answer, else the answer's start. */
const statusMessage = (answer: string): string => {
  try {
    const parsed = JSON.parse(answer) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message.slice(0, 500);
  } catch {
    // not JSON: a proxy's page
  }
  return answer.replace(/\s+/g, ' ').trim().slice(0, 300);
};

/**
 * KServe: renders an `InferenceService` for the version (see `renderInferenceService`).
 *
 * With `apiServer`, it is applied through the Kubernetes API with server-side apply
 * (`PATCH …/namespaces/{ns}/inferenceservices/{name}?fieldManager=mrw-deployer&force=true`,
 * `application/apply-patch+yaml`, a bearer token from `tokenEnv`, the cluster's CA from
 * `caCertEnv`). The target succeeds once KServe reports the applied generation Ready, with
 * `status.url` as the endpoint; until then the trigger is retried with backoff (applying the
 * same manifest again is a no-op) until the deployment's timeout. A model that failed to load,
 * and 4xx answers (a bad token, missing rights, no KServe, a manifest the cluster refuses) fail it.
 *
 * Without `apiServer` (GitOps) nothing is sent: the manifest, with the callback URL as an
 * annotation, is what `GET /api/v1/deployments/{id}/manifest` serves for a pipeline to commit;
 * the pipeline reports through the callback URL.
 */
export class KServeTarget implements DeploymentTargetKind {
  readonly kind = KSERVE_KIND;

  constructor(
    private readonly http: OutboundHttp,
    private readonly env: TargetEnvironment,
  ) {}

  async trigger(request: TargetTrigger): Promise<TriggerResult> {
    const settings = kserveSettingsOf(request.settings);
    return settings.apiServer === null ? this.render(request, settings) : this.apply(request, settings, settings.apiServer);
  }

  /** GitOps: the manifest is the outcome of the trigger; what is shown hides the callback's token. */
  private render(request: TargetTrigger, settings: KServeSettings): TriggerResult {
    const manifest = renderInferenceService(request, settings, redactCallback(request.callbackUrl));
    const { namespace, name } = inferenceServiceRef(request, settings);
    const sent: SentRequest = { method: 'RENDER', url: `kserve://${namespace}/${name}`, headers: {}, body: manifest };
    return { outcome: 'triggered', sent, response: null };
  }

  private async apply(request: TargetTrigger, settings: KServeSettings, apiServer: string): Promise<TriggerResult> {
    const manifest = renderInferenceService(request, settings, null);
    const { namespace, name } = manifest.metadata;
    const [group, version] = KSERVE_API_VERSION.split('/') as [string, string];
    const path = `/apis/${group}/${version}/namespaces/${namespace}/inferenceservices/${name}`;
    const url = `${apiServer}${path}?fieldManager=${KSERVE_FIELD_MANAGER}&force=true`;
    const headers: Record<string, string> = {
      'content-type': 'application/apply-patch+yaml',
      accept: 'application/json',
      ...(settings.tokenEnv !== null ? { authorization: `Bearer ${credentialFrom(this.env, request.settings, KSERVE_KIND)}` } : {}),
    };
    const ca = settings.caCertEnv !== null ? credentialFrom(this.env, request.settings, KSERVE_KIND, 'caCertEnv') : undefined;
    const sent: SentRequest = { method: 'PATCH', url, headers: redactHeaders(headers), body: manifest };
    const ref = `InferenceService ${namespace}/${name}`;
    const { text: answer } = await callTarget(
      this.http,
      KSERVE_KIND,
      // JSON is YAML: the apply body is the manifest as JSON.
      { method: 'PATCH', url, headers, body: JSON.stringify(manifest), signal: request.signal, ...(ca !== undefined ? { ca } : {}) },
      sent,
      { maxBytes: MAX_OBJECT_BYTES, refusal: (status, body, label) => `${label} refused to apply ${ref} (${status}): ${statusMessage(body)}${hintFor(status, settings, namespace)}` },
    );
    let applied: AppliedObject;
    try {
      applied = JSON.parse(answer) as AppliedObject;
    } catch {
      throw new TargetRefusedError(`${KSERVE_KIND}: the answer to applying ${ref} is not a Kubernetes object; is apiServer (${apiServer}) the Kubernetes API?`, sent);
    }
    return readiness(applied, ref, sent);
  }
}

/** Ready for the generation just applied → served; failed to load → refused; anything else: not yet (retried). */
const readiness = (applied: AppliedObject, ref: string, sent: SentRequest): TriggerResult => {
  const generation = applied.metadata?.generation;
  const observed = applied.status?.observedGeneration;
  // A status written for an earlier generation (the previous version) says nothing about this one.
  const current = typeof observed === 'number' && (typeof generation !== 'number' || observed >= generation);
  if (!current) {
    throw new TargetUnavailableError(`${ref} applied (generation ${String(generation ?? '?')}); KServe has not reconciled it yet`);
  }
  const model = applied.status?.modelStatus;
  if (model?.states?.targetModelState === 'FailedToLoad' || model?.transitionStatus === 'InvalidSpec') {
    const failure = model.lastFailureInfo;
    const why = [text(failure?.reason), text(failure?.message)].filter((s) => s !== null).join(': ');
    throw new TargetRefusedError(
      `${ref} ${model.transitionStatus === 'InvalidSpec' ? 'has an invalid spec' : 'failed to load the model'}${why ? `: ${why}` : ''}`,
      sent,
    );
  }
  const ready = applied.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const why = [text(ready?.reason), text(ready?.message)].filter((s) => s !== null).join(': ');
    throw new TargetUnavailableError(`${ref} is not ready yet${why ? ` (${why})` : ''}`);
  }
  return { outcome: 'succeeded', endpoint: text(applied.status?.url) ?? text(applied.status?.address?.url), sent };
};

/** What to fix, for the refusals a misconfiguration causes. */
const hintFor = (status: number, settings: KServeSettings, namespace: string): string => {
  switch (status) {
    case 401:
      return settings.tokenEnv === null
        ? '; the API wants a token: name the variable holding it with tokenEnv'
        : `; the token in ${settings.tokenEnv} is not accepted (expired, or for another cluster)`;
    case 403:
      return `; the token's account needs get and patch on inferenceservices.serving.kserve.io in namespace ${namespace}`;
    case 404:
      return `; is KServe installed (the ${KSERVE_API_VERSION} InferenceService resource), and does namespace ${namespace} exist?`;
    case 422:
      return '; the cluster refused the manifest (GET /api/v1/deployments/{id} shows what was sent)';
    default:
      return '';
  }
};
