import type { Clock } from '@mrw/platform';
import { signWebhook } from '@mrw/platform';
import type { OutboundHttp } from '@mrw/outbound';
import type { DeploymentTargetKind, TargetTrigger, TriggerResult } from './deployment-target';
import { credentialFrom, redactCallback, sendToTarget, textSetting, type TargetEnvironment } from './target-http';

const KIND = 'webhook';

/** The event type of a deployment webhook's body. */
export const DEPLOYMENT_WEBHOOK_TYPE = 'deployment.requested';

/**
 * A generic deployment webhook: a Standard Webhooks-signed JSON POST (`webhook-id` = the
 * deployment id, so a receiver deduplicates a resend by it) with the deployment's facts and the
 * callback URL. Any 2xx is accepted; the receiver reports the outcome to the callback URL.
 * Settings: `url`, `secretEnv` (the environment variable holding the signing secret,
 * `whsec_<base64>` or raw text).
 */
export class WebhookTarget implements DeploymentTargetKind {
  readonly kind = KIND;

  constructor(
    private readonly http: OutboundHttp,
    private readonly env: TargetEnvironment,
    private readonly clock: Clock,
  ) {}

  async trigger(request: TargetTrigger): Promise<TriggerResult> {
    const url = textSetting(request.settings, KIND, 'url');
    const secret = credentialFrom(this.env, request.settings, KIND, 'secretEnv');
    const payload = (callbackUrl: string) => ({
      type: DEPLOYMENT_WEBHOOK_TYPE,
      timestamp: this.clock.now().toISOString(),
      data: {
        deploymentId: request.deploymentId,
        idempotencyKey: request.idempotencyKey,
        model: request.model,
        version: request.version,
        environment: request.environment,
        purpose: request.purpose,
        replacing: request.replacing,
        artifact: { uri: request.artifactUri, digest: request.artifactDigest },
        callbackUrl,
      },
    });
    const body = JSON.stringify(payload(request.callbackUrl));
    const signed = signWebhook(secret, request.deploymentId, this.clock.now(), body);
    const headers = { 'content-type': 'application/json', ...signed };
    const sent = { method: 'POST', url, headers, body: payload(redactCallback(request.callbackUrl)) };
    const response = await sendToTarget(this.http, KIND, { method: 'POST', url, headers, body, signal: request.signal }, sent);
    return { outcome: 'triggered', sent, response };
  }
}
