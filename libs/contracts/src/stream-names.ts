/** Model names: what the registry accepts (DESIGN section 8). */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const modelStream = (model: string): string => `model-${model}`;

export const modelVersionStream = (model: string, version: number): string =>
  `modelVersion-${model}@${version}`;

export const accessTokenStream = (tokenId: string): string => `accessToken-${tokenId}`;

/** A token's verifier, kept apart from its audited `accessToken-` stream (see AccessTokenCredentialStored). */
export const tokenCredentialStream = (tokenId: string): string => `tokenCredential-${tokenId}`;

/**
 * The streams whose events leave the store: published on Kafka (and the embedded bus), the
 * audit trail, dashboards. Everything else stays inside the suite.
 */
export const PUBLISHED_STREAM_PREFIXES: readonly string[] = ['model-', 'modelVersion-', 'accessToken-', 'webhookNotice-'];

/**
 * The approvals service's people directory: one stream per registry subject, holding that
 * person's contact details (personal data: admin-only, never published or in the audit trail).
 */
export const personStream = (subject: string): string => `person-${subject}`;

/** A one-click decision link's use, keyed by the link's nonce: its first event makes the link spent. */
export const decisionLinkStream = (nonce: string): string => `decisionLink-${nonce}`;

/**
 * The deployer's own record of one deployment: which targets it triggered and what it sent, each
 * target's reported outcome (a callback token's single use) and the conclusion it reports.
 */
export const deploymentRunStream = (deploymentId: string): string => `deploymentRun-${deploymentId}`;

/**
 * A webhook subscription (`POST /api/v1/webhooks`): its settings, its sealed signing secrets and
 * its health. Private: a subscription's URL and secrets are its owner's, not the audit trail's.
 */
export const webhookStream = (subscriptionId: string): string => `webhook-${subscriptionId}`;

/**
 * What the registry's webhooks tell other services about a subscription (`WebhookDisabled`):
 * published, so the approvals service can email its owner; it carries the receiver's origin,
 * never its URL or secret. Operations, not lifecycle: the audit index skips it.
 */
export const webhookNoticeStream = (subscriptionId: string): string => `webhookNotice-${subscriptionId}`;

/**
 * Categories kept inside the services that write them: never published, indexed for the audit
 * trail or served by the registry. Token verifiers (secrets' hashes), people's contact details
 * (personal data, readable by admins through the people API only), the single-use records of
 * decision links (operations; the decision itself is audited on the version with its channel)
 * the deployer's runs (operations; the deployment's outcome is audited on the version) and
 * webhook subscriptions (their URLs and sealed secrets).
 */
const PRIVATE_CATEGORIES: ReadonlySet<string> = new Set(['tokenCredential', 'person', 'decisionLink', 'deploymentRun', 'webhook']);

/** Whether a stream is private (see PRIVATE_CATEGORIES): never served, indexed or published. */
export const isPrivateStream = (stream: string): boolean => PRIVATE_CATEGORIES.has(streamCategory(stream));

/** The category of a stream: the part before the first `-`. */
export const streamCategory = (stream: string): string => {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
};

/** A model version's stream, parsed (see parseModelVersionStream). */
export type ModelVersionStreamId = Readonly<{ model: string; version: number }>;

/** The stream parsed last, and what it gave (see parseModelVersionStream). */
let lastParsed: { readonly stream: string; readonly id: ModelVersionStreamId | undefined } = { stream: '', id: undefined };

/**
 * Parses `modelVersion-<model>@<version>`; undefined for any other stream. The answer for the
 * stream parsed last is kept: the projections parse every event's stream in turn (three times
 * per event, a version's events mostly one after another), and it was 3–5% of a rebuild.
 */
export const parseModelVersionStream = (stream: string): ModelVersionStreamId | undefined => {
  if (stream === lastParsed.stream) return lastParsed.id;
  const match = /^modelVersion-(.+)@([1-9][0-9]*)$/.exec(stream);
  const id = match ? Object.freeze({ model: match[1] as string, version: Number(match[2]) }) : undefined;
  lastParsed = { stream, id };
  return id;
};

/** The model a stream is about: `model-<name>` and `modelVersion-<name>@<n>` name it; undefined for any other stream. */
export const modelOfStream = (stream: string): string | undefined =>
  parseModelVersionStream(stream)?.model ?? (stream.startsWith('model-') ? stream.slice('model-'.length) : undefined);

/** Standard evaluation sets: one stream per set name, one event per immutable version. */
export const evaluationSetStream = (name: string): string => `evaluationSet-${name}`;
