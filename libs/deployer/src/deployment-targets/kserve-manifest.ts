import { stringify } from 'yaml';
import { inferenceServiceName, readKServeSettings, storageUriFrom, type KServeResources, type KServeSettings } from '@mrw/contracts';
import { TargetRefusedError, type TargetTrigger } from './deployment-target';

export const KSERVE_KIND = 'kserve';
export const KSERVE_API_VERSION = 'serving.kserve.io/v1beta1';

/** The labels and annotations the deployer writes on an InferenceService (`mrw/` is the suite's prefix). */
export const KSERVE_METADATA = {
  managedBy: 'app.kubernetes.io/managed-by',
  model: 'mrw/model',
  version: 'mrw/version',
  environment: 'mrw/environment',
  deploymentId: 'mrw/deployment-id',
  idempotencyKey: 'mrw/idempotency-key',
  artifactUri: 'mrw/artifact-uri',
  artifactDigest: 'mrw/artifact-digest',
  callbackUrl: 'mrw/callback-url',
} as const;

/** What a manifest is rendered from: one deployment of one version to one environment. */
export type ManifestFacts = Pick<TargetTrigger, 'deploymentId' | 'idempotencyKey' | 'model' | 'version' | 'environment' | 'artifactUri' | 'artifactDigest'>;

export interface InferenceServiceManifest {
  readonly apiVersion: typeof KSERVE_API_VERSION;
  readonly kind: 'InferenceService';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly spec: {
    readonly predictor: {
      readonly serviceAccountName?: string;
      readonly model: {
        readonly modelFormat: { readonly name: string };
        readonly runtime?: string;
        readonly protocolVersion: 'v2';
        readonly storageUri: string;
        readonly resources?: KServeResources;
      };
    };
  };
}

// A Kubernetes label value: at most 63 characters, alphanumerics with - _ . inside.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelValue = (value: string): boolean => value.length <= 63 && LABEL_VALUE.test(value);

/** A kserve target's settings, or a refusal listing what is wrong (a policy stored before the registry checked them). */
export const kserveSettingsOf = (settings: Readonly<Record<string, unknown>>): KServeSettings => {
  const { settings: read, problems } = readKServeSettings(settings);
  if (problems.length > 0) {
    throw new TargetRefusedError(`${KSERVE_KIND} target: ${problems.map((p) => `${p.setting} ${p.message}`).join('; ')}`);
  }
  return read;
};

/** The InferenceService's namespace and name, as `<namespace>/<name>`. */
export const inferenceServiceRef = (facts: Pick<ManifestFacts, 'model'>, settings: KServeSettings): { namespace: string; name: string } => ({
  namespace: settings.namespace,
  name: settings.name ?? inferenceServiceName(facts.model),
});

/**
 * The storage URI KServe loads the model from: the settings' template, else the version's
 * artifact URI when KServe can fetch it (http, https); an artifact in the registry's own store
 * or on its host is not reachable from a cluster, so the target must say where it is copied.
 */
const storageUriOf = (facts: ManifestFacts, settings: KServeSettings): string => {
  if (settings.storageUri !== null) {
    const uri = storageUriFrom(settings.storageUri, { model: facts.model, version: facts.version, digest: facts.artifactDigest });
    if (uri === undefined) {
      throw new TargetRefusedError(`${KSERVE_KIND} target: storageUri uses {digest}, and ${facts.model}@${facts.version} was registered without an artifact digest`);
    }
    return uri;
  }
  if (/^https?:\/\//i.test(facts.artifactUri)) return facts.artifactUri;
  throw new TargetRefusedError(
    `${KSERVE_KIND} target: KServe cannot fetch the artifact ${facts.artifactUri.split(':')[0]}://… of ${facts.model}@${facts.version}; ` +
      'set storageUri to where your pipeline keeps the model (e.g. s3://models/{model}/{version}/)',
  );
};

/**
 * The `InferenceService` of one deployment: the predictor serves the version's artifact with the
 * format's runtime over the Open Inference Protocol v2 (the protocol of the local runtime), and
 * the metadata carry the deployment id (the idempotency key of what was applied), the model,
 * version and artifact. `callbackUrl` (GitOps only) lets the pipeline that applies it report.
 */
export const renderInferenceService = (facts: ManifestFacts, settings: KServeSettings, callbackUrl: string | null): InferenceServiceManifest => {
  const { namespace, name } = inferenceServiceRef(facts, settings);
  const labels: Record<string, string> = { [KSERVE_METADATA.managedBy]: 'mrw' };
  if (labelValue(facts.model)) labels[KSERVE_METADATA.model] = facts.model;
  labels[KSERVE_METADATA.version] = String(facts.version);
  if (labelValue(facts.environment)) labels[KSERVE_METADATA.environment] = facts.environment;
  const annotations: Record<string, string> = {
    [KSERVE_METADATA.model]: facts.model,
    [KSERVE_METADATA.deploymentId]: facts.deploymentId,
    [KSERVE_METADATA.idempotencyKey]: facts.idempotencyKey,
    [KSERVE_METADATA.artifactUri]: facts.artifactUri,
    ...(facts.artifactDigest !== null ? { [KSERVE_METADATA.artifactDigest]: facts.artifactDigest } : {}),
    ...(callbackUrl !== null ? { [KSERVE_METADATA.callbackUrl]: callbackUrl } : {}),
  };
  return {
    apiVersion: KSERVE_API_VERSION,
    kind: 'InferenceService',
    metadata: { name, namespace, labels, annotations },
    spec: {
      predictor: {
        ...(settings.serviceAccountName !== null ? { serviceAccountName: settings.serviceAccountName } : {}),
        model: {
          modelFormat: { name: settings.modelFormat },
          ...(settings.runtime !== null ? { runtime: settings.runtime } : {}),
          protocolVersion: 'v2',
          storageUri: storageUriOf(facts, settings),
          ...(settings.resources !== null ? { resources: settings.resources } : {}),
        },
      },
    },
  };
};

/** A manifest as YAML, the way a GitOps repository keeps it. */
export const manifestYaml = (manifest: InferenceServiceManifest): string => stringify(manifest, { lineWidth: 0 });
