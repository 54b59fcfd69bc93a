import { OutboundError, type OutboundHttp } from '@mrw/outbound';
import { TargetRefusedError, TargetUnavailableError, type SentRequest, type TargetTrigger } from './deployment-target';

/** Where targets read the credentials their settings name (`tokenEnv: "GITHUB_TOKEN"`): the deployer's environment. */
export const TARGET_ENVIRONMENT = Symbol('TARGET_ENVIRONMENT');
export type TargetEnvironment = Readonly<Record<string, string | undefined>>;

const REDACTED = '[redacted]';
const MAX_ANSWER_BYTES = 64 * 1024;
const ANSWER_SHOWN = 300;

/** A required text setting, or a refusal naming it. */
export const textSetting = (settings: Readonly<Record<string, unknown>>, kind: string, name: string, fallback?: string): string => {
  const value = settings[name] ?? fallback;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TargetRefusedError(`${kind} target: the setting ${name} is missing (see the deployer's README for the settings of each target kind)`);
  }
  return value;
};

/**
 * The credential a setting names: `tokenEnv: "GITHUB_TOKEN"` is the value of that environment
 * variable of the deployer. Policies never hold credentials (every viewer reads them).
 */
export const credentialFrom = (env: TargetEnvironment, settings: Readonly<Record<string, unknown>>, kind: string, name = 'tokenEnv'): string => {
  const variable = textSetting(settings, kind, name);
  const value = env[variable];
  if (!value) throw new TargetRefusedError(`${kind} target: the environment variable ${variable} (named by ${name}) is not set in the deployer`);
  return value;
};

/** The callback URL as shown: its token is a credential for this deployment's outcome. */
export const redactCallback = (url: string): string => url.replace(/([?&]token=)[^&#]*/g, `$1${REDACTED}`);

/** Headers as shown: credentials redacted. */
export const redactHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      /^(authorization|private-token|job-token|cookie)$/i.test(name) ? (/^bearer\s/i.test(value) ? `Bearer ${REDACTED}` : REDACTED) : value,
    ]),
  );

export { REDACTED };

/** The facts every target sends, as strings (GitHub's workflow inputs are strings). */
export const deploymentFacts = (request: TargetTrigger): Record<string, string> => ({
  deployment_id: request.deploymentId,
  model: request.model,
  version: String(request.version),
  artifact_uri: request.artifactUri,
  artifact_digest: request.artifactDigest ?? '',
  callback_url: request.callbackUrl,
});

/** A base URL without its trailing slashes. */
export const baseUrl = (value: string): string => value.replace(/\/+$/, '');

const isTransientStatus = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500;

const shortAnswer = (text: string): string =>
  text
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, ANSWER_SHOWN);

/** The URL as shown in reasons: no query (it may hold a token), no user info. */
const shownUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
};

/** One request to a target: what `sendToTarget` and `callTarget` send. `ca`: the PEM an https target's certificate must chain to. */
export interface TargetCall {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly signal?: AbortSignal;
  readonly ca?: string;
}

/**
 * Sends one request to a target through the outbound guard and sorts the outcome: 2xx resolves
 * with the status and a short answer; 408, 425, 429, 5xx, timeouts and failed connections throw
 * TargetUnavailableError (retried until the deployment's timeout); other statuses and refused
 * addresses TargetRefusedError (the deployment fails). Redirects are not followed: a POST that
 * triggers a pipeline is not re-sent elsewhere.
 */
export const sendToTarget = async (http: OutboundHttp, kind: string, request: TargetCall, sent: SentRequest): Promise<{ status: number; answer: string }> => {
  const { status, text } = await callTarget(http, kind, request, sent);
  return { status, answer: shortAnswer(text) };
};

/**
 * `sendToTarget` for a target whose answer matters (the Kubernetes API's object): resolves with
 * the whole answer, up to `maxBytes`; `refusal` words the reason of a refused request from its
 * status and whole answer (the default: the status and the answer's first characters).
 */
export const callTarget = async (
  http: OutboundHttp,
  kind: string,
  request: TargetCall,
  sent: SentRequest,
  options: { readonly maxBytes?: number; readonly refusal?: (status: number, answer: string, label: string) => string } = {},
): Promise<{ status: number; text: string }> => {
  const label = `${kind} at ${shownUrl(request.url)}`;
  if (request.signal?.aborted) throw new TargetUnavailableError(`${label}: the deployer is stopping`);
  let status: number;
  let text = '';
  try {
    const response = await http.request(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      maxBytes: options.maxBytes ?? MAX_ANSWER_BYTES,
      maxRedirects: 0,
      ...(request.ca !== undefined ? { ca: request.ca } : {}),
    });
    status = response.status;
    text = await response.text().catch(() => '');
  } catch (error) {
    if (error instanceof OutboundError) {
      if (error.code === 'OUTBOUND_ADDRESS_REFUSED' || error.code === 'OUTBOUND_URL_REFUSED') {
        throw new TargetRefusedError(`${label}: the address is refused (${error.code}); MRW_OUTBOUND_ALLOWED_HOSTS must allow it`, sent);
      }
      if (error.code === 'OUTBOUND_TOO_LARGE' || error.code === 'OUTBOUND_TOO_MANY_REDIRECTS') {
        throw new TargetRefusedError(`${label}: ${error.code}`, sent);
      }
      // The cause without the URL it starts with (shown already): "self-signed certificate", "ECONNREFUSED".
      const cause = shortAnswer(error.message.replace(/^\S+: /, ''));
      throw new TargetUnavailableError(`${label}: ${error.code === 'OUTBOUND_TIMEOUT' ? 'no answer in time' : `the connection failed (${cause})`}`);
    }
    throw new TargetUnavailableError(`${label} could not be called (${error instanceof Error ? error.name : typeof error})`);
  }
  if (status >= 200 && status < 300) return { status, text };
  const short = shortAnswer(text);
  const said = short ? `: ${short}` : '';
  if (isTransientStatus(status)) throw new TargetUnavailableError(`${label} answered ${status}${said}`);
  throw new TargetRefusedError(options.refusal ? options.refusal(status, text, label) : `${label} answered ${status}${said}`, sent);
};
