/**
 * The settings of a `kserve` deployment target: the registry checks them when a policy is set
 * (422 `INVALID_POLICY`), the deployer reads them with the same rules when it renders the
 * `InferenceService`, so a policy the registry took never fails on a setting it could have checked.
 */

/** CPU and memory of the predictor, as Kubernetes quantities (`"500m"`, `"2Gi"`). */
export interface KServeResourceList {
  readonly cpu?: string;
  readonly memory?: string;
}

export interface KServeResources {
  readonly requests?: KServeResourceList;
  readonly limits?: KServeResourceList;
}

export interface KServeSettings {
  /** The namespace of the `InferenceService` (default `default`). */
  readonly namespace: string;
  /** Its name; null: derived from the model's name (see `inferenceServiceName`). */
  readonly name: string | null;
  /** `spec.predictor.model.modelFormat.name` (default `onnx`). */
  readonly modelFormat: string;
  /** A `ServingRuntime` to use; null: KServe picks one that supports the format and protocol. */
  readonly runtime: string | null;
  /** A template of the storage URI (`{model}`, `{version}`, `{digest}`); null: the version's artifact URI. */
  readonly storageUri: string | null;
  readonly resources: KServeResources | null;
  readonly serviceAccountName: string | null;
  /** The Kubernetes API to apply the manifest through; null: GitOps, the manifest is exposed, not applied. */
  readonly apiServer: string | null;
  /** The deployer's environment variable holding the API's bearer token. */
  readonly tokenEnv: string | null;
  /** The deployer's environment variable holding the PEM of the CA that signed the API's certificate. */
  readonly caCertEnv: string | null;
}

/** What is wrong with one setting, by its path under the target's settings (`resources.limits.cpu`). */
export interface KServeSettingProblem {
  readonly setting: string;
  readonly message: string;
}

export const KSERVE_SETTING_NAMES = [
  'namespace',
  'name',
  'modelFormat',
  'runtime',
  'storageUri',
  'resources',
  'serviceAccountName',
  'apiServer',
  'tokenEnv',
  'caCertEnv',
] as const;

/** The placeholders a `storageUri` template may use. */
export const KSERVE_STORAGE_PLACEHOLDERS = ['model', 'version', 'digest'] as const;

/**
 * The longest `InferenceService` name: KServe names the predictor's Knative revisions
 * `<name>-predictor-00001`, and Kubernetes names stop at 63 characters.
 */
export const KSERVE_NAME_MAX = 47;

// Kubernetes' DNS-1123 label (namespaces) and subdomain (service accounts, runtimes); KServe's own name rule.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ISVC_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const MODEL_FORMAT = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;
const SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a Kubernetes quantity (`"500m"` → 0.5, `"2Gi"` → 2147483648), or undefined if it is not one. */
export const parseQuantity = (text: string): number | undefined => {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  const value = Number(number) * (exponent ? 10 ** Number(exponent.slice(1)) : suffix ? (SUFFIX[suffix] as number) : 1);
  return Number.isFinite(value) ? value : undefined;
};

/**
 * The `InferenceService` name a model gets when its target names none: lower case, every run of
 * other characters a `-`, starting with a letter (`m-` is put before a leading digit), at most
 * KSERVE_NAME_MAX characters: `Churn_Model` → `churn-model`.
 */
export const inferenceServiceName = (model: string): string => {
  let name = model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(name)) name = `m-${name}`;
  return name.slice(0, KSERVE_NAME_MAX).replace(/-+$/, '');
};

/**
 * A storage URI from its template: `{model}`, `{version}` and `{digest}` (the artifact's hex
 * digest, without `sha256:`). Undefined when the template uses `{digest}` and the version has none.
 */
export const storageUriFrom = (template: string, facts: { model: string; version: number; digest: string | null }): string | undefined => {
  const hex = facts.digest === null ? null : facts.digest.replace(/^sha256:/, '');
  if (hex === null && template.includes('{digest}')) return undefined;
  return template.replace(/\{(model|version|digest)\}/g, (_, name: string) =>
    name === 'model' ? facts.model : name === 'version' ? String(facts.version) : (hex as string),
  );
};

const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);

/**
 * Reads and checks the settings of a `kserve` target (the policy's `settings`, merged with
 * settings written beside `kind`). Unknown settings are problems too: a misspelt `namspace`
 * would otherwise deploy to `default` without a word.
 */
export const readKServeSettings = (settings: Readonly<Record<string, unknown>>): { settings: KServeSettings; problems: KServeSettingProblem[] } => {
  const problems: KServeSettingProblem[] = [];
  const problem = (setting: string, message: string): void => {
    problems.push({ setting, message });
  };
  for (const key of Object.keys(settings)) {
    if (!(KSERVE_SETTING_NAMES as readonly string[]).includes(key)) problem(key, `is not a setting of a kserve target (known: ${KSERVE_SETTING_NAMES.join(', ')})`);
  }
  const text = (key: string, check: (value: string) => string | undefined): string | null => {
    const value = settings[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string' || value === '') {
      problem(key, 'must be a non-empty string');
      return null;
    }
    const wrong = check(value);
    if (wrong !== undefined) {
      problem(key, wrong);
      return null;
    }
    return value;
  };

  const namespace = text('namespace', (v) =>
    v.length <= 63 && DNS_LABEL.test(v) ? undefined : 'must be a Kubernetes namespace name: at most 63 lower-case letters, digits and -, starting and ending with a letter or digit',
  );
  const name = text('name', (v) =>
    v.length <= KSERVE_NAME_MAX && ISVC_NAME.test(v)
      ? undefined
      : `must be an InferenceService name: at most ${KSERVE_NAME_MAX} lower-case letters, digits and -, starting with a letter and ending with a letter or digit`,
  );
  const modelFormat = text('modelFormat', (v) => (MODEL_FORMAT.test(v) ? undefined : 'must be a KServe model format name such as onnx, sklearn, xgboost, pytorch, tensorflow'));
  const subdomain = (what: string) => (v: string) =>
    v.length <= 253 && DNS_SUBDOMAIN.test(v) ? undefined : `must be the name of a ${what}: lower-case letters, digits, - and .`;
  const runtime = text('runtime', subdomain('ServingRuntime'));
  const serviceAccountName = text('serviceAccountName', subdomain('Kubernetes service account'));
  const storageUri = text('storageUri', (v) => {
    const unknown = [...v.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] as string).filter((p) => !(KSERVE_STORAGE_PLACEHOLDERS as readonly string[]).includes(p));
    if (unknown.length > 0) return `uses the unknown placeholder {${unknown[0]}}; known: ${KSERVE_STORAGE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`;
    if (v.length > 2048 || /\s/.test(v) || !/^[a-z][a-z0-9+.-]*:\/\/./i.test(v)) return 'must be a URI such as s3://bucket/{model}/{version} or gs://…, pvc://…, https://…';
    return undefined;
  });
  const apiServer = text('apiServer', (v) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      return 'must be the https URL of the Kubernetes API';
    }
    if (url.username !== '' || url.password !== '') return 'must not carry a user or password: name the token with tokenEnv';
    if (url.search !== '' || url.hash !== '') return 'must not have a query or fragment';
    if (url.protocol === 'https:') return undefined;
    if (url.protocol === 'http:' && isLoopback(url.hostname)) return undefined;
    return 'must be an https URL (plain http only on loopback, e.g. kubectl proxy at http://127.0.0.1:8001)';
  });
  const envName = (key: string): string | null => {
    const value = text(key, (v) => (ENV_NAME.test(v) ? undefined : 'must name an environment variable of the deployer (A-Z, 0-9, _)'));
    if (value !== null && settings['apiServer'] === undefined) problem(key, 'is used only to apply through the Kubernetes API: set apiServer too, or remove it');
    return value;
  };
  const tokenEnv = envName('tokenEnv');
  const caCertEnv = envName('caCertEnv');
  const resources = readResources(settings['resources'], problem);

  return {
    settings: {
      namespace: namespace ?? 'default',
      name,
      modelFormat: modelFormat ?? 'onnx',
      runtime,
      storageUri,
      resources,
      serviceAccountName,
      apiServer: apiServer === null ? null : apiServer.replace(/\/+$/, ''),
      tokenEnv,
      caCertEnv,
    },
    problems,
  };
};

const readResources = (value: unknown, problem: (setting: string, message: string) => void): KServeResources | null => {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problem('resources', 'must be an object {requests?, limits?} of cpu and memory quantities');
    return null;
  }
  const out: Record<string, Record<string, string>> = {};
  const amounts: Record<string, Record<string, number>> = {};
  for (const [group, list] of Object.entries(value)) {
    const at = `resources.${group}`;
    if (group !== 'requests' && group !== 'limits') {
      problem(at, 'is not a part of resources (requests, limits)');
      continue;
    }
    if (typeof list !== 'object' || list === null || Array.isArray(list)) {
      problem(at, 'must be an object with cpu and/or memory');
      continue;
    }
    for (const [resource, raw] of Object.entries(list)) {
      const field = `${at}.${resource}`;
      if (resource !== 'cpu' && resource !== 'memory') {
        problem(field, 'is not a resource a kserve target sets (cpu, memory)');
        continue;
      }
      const quantity = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? String(raw) : raw;
      const amount = typeof quantity === 'string' ? parseQuantity(quantity) : undefined;
      if (typeof quantity !== 'string' || amount === undefined) {
        problem(field, `must be a Kubernetes quantity such as ${resource === 'cpu' ? '"500m" or "2"' : '"512Mi" or "2Gi"'}`);
        continue;
      }
      if (resource === 'memory' && /m$/.test(quantity)) {
        problem(field, `${quantity} is ${amount} bytes (m is milli); write ${quantity.slice(0, -1)}Mi for mebibytes`);
        continue;
      }
      (out[group] ??= {})[resource] = quantity;
      (amounts[group] ??= {})[resource] = amount;
    }
  }
  for (const resource of ['cpu', 'memory']) {
    const request = amounts['requests']?.[resource];
    const limit = amounts['limits']?.[resource];
    if (request !== undefined && limit !== undefined && request > limit) {
      problem(`resources.requests.${resource}`, `${out['requests']?.[resource]} is more than the limit ${out['limits']?.[resource]}: Kubernetes refuses a request above its limit`);
    }
  }
  return Object.keys(out).length > 0 ? (out as KServeResources) : null;
};
