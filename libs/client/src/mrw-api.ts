import type { Stage } from '@mrw/contracts';
import { API_PREFIX, API_ROUTES, type ApiRouteName } from './api-routes';
import type {
  Approval,
  Board,
  Deployment,
  Self,
  VersionComparison,
  AuditSearch,
  ChainVerification,
  CreateWebhookInput,
  DeadLetter,
  Model,
  ModelSummary,
  ModelVersion,
  Page,
  RegisterVersionInput,
  RollbackAnswer,
  StreamAudit,
  TransitionAnswer,
  VersionSummary,
  Webhook,
  WebhookDelivery,
} from './api-types';
import { apiErrorFrom, MrwConnectionError } from './mrw-errors';

export interface MrwClientOptions {
  /** The registry's base URL, e.g. `http://localhost:8080` (a trailing `/api/v1` is accepted). */
  readonly url: string;
  /** A bearer token issued by the registry (`POST /api/v1/tokens`). */
  readonly token?: string;
  /** How long one JSON request may take; uploads are not limited. Default 120 s. */
  readonly requestTimeoutMs?: number;
  readonly userAgent?: string;
  /** For tests and special transports; default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

type Query = Readonly<Record<string, string | number | boolean | undefined>>;

interface CallOptions {
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: Query;
  readonly body?: unknown;
  readonly idempotencyKey?: string;
}

/**
 * A typed client of the registry's public API (`/api/v1`), over `fetch` only: it runs in a
 * browser (the console) as in Node. `MrwClient` adds uploads from local files (Node).
 */
export class MrwApi {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: MrwClientOptions) {
    this.url = options.url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.token = options.token;
    this.timeoutMs = options.requestTimeoutMs ?? 120_000;
    this.userAgent = options.userAgent ?? 'mrw-client/0.1';
    // Bound: a browser's fetch called as another object's method throws "Illegal invocation".
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  listModels(query: { stage?: Stage; tag?: string; q?: string; limit?: number; offset?: number } = {}): Promise<Page<ModelSummary>> {
    return this.call('listModels', { query });
  }

  /** The model now, or as it was at `asOf` (what served then is its `servingVersion`). */
  getModel(name: string, options: { asOf?: string } = {}): Promise<Model> {
    return this.call('getModel', { params: { name }, query: { asOf: options.asOf } });
  }

  createModel(input: { name: string; description?: string; tags?: Record<string, string> }, options: { idempotencyKey?: string } = {}): Promise<Model> {
    return this.call('createModel', { body: input, ...options });
  }

  listVersions(name: string, query: { stage?: Stage; limit?: number; offset?: number } = {}): Promise<Page<VersionSummary>> {
    return this.call('listVersions', { params: { name }, query });
  }

  getVersion(name: string, version: number, options: { asOf?: string } = {}): Promise<ModelVersion> {
    return this.call('getVersion', { params: { name, version }, query: { asOf: options.asOf } });
  }

  registerVersion(name: string, input: RegisterVersionInput, options: { idempotencyKey?: string } = {}): Promise<ModelVersion> {
    return this.call('registerVersion', { params: { name }, body: input, ...options });
  }

  /** Asks for a stage change; the answer's request says where it stands (`evaluating`, `refused`, …). */
  requestTransition(name: string, version: number, input: { toStage: Stage; comment?: string; archiveExistingVersions?: boolean }, options: { idempotencyKey?: string } = {}): Promise<TransitionAnswer> {
    return this.call('requestTransition', { params: { name, version }, body: input, ...options });
  }

  listApprovals(query: { status?: string; model?: string; reviewer?: 'me'; limit?: number; offset?: number } = {}): Promise<Page<Approval>> {
    return this.call('listApprovals', { query });
  }

  getApproval(id: string): Promise<Approval> {
    return this.call('getApproval', { params: { id } });
  }

  approve(id: string, comment?: string, options: { idempotencyKey?: string } = {}): Promise<Approval> {
    return this.call('approve', { params: { id }, body: comment === undefined ? {} : { comment }, ...options });
  }

  reject(id: string, comment?: string, options: { idempotencyKey?: string } = {}): Promise<Approval> {
    return this.call('reject', { params: { id }, body: comment === undefined ? {} : { comment }, ...options });
  }

  requestRollback(name: string, input: { reason: string; toVersion?: number; emergency?: boolean }, options: { idempotencyKey?: string } = {}): Promise<RollbackAnswer> {
    return this.call('requestRollback', { params: { name }, body: input, ...options });
  }

  /** The version's stream: every event with its hash. */
  versionAudit(name: string, version: number): Promise<StreamAudit> {
    return this.call('versionAudit', { params: { name, version } });
  }

  /** Recomputes the version's hash chain on the registry. */
  verifyVersionAudit(name: string, version: number): Promise<ChainVerification> {
    return this.call('verifyVersionAudit', { params: { name, version } });
  }

  searchAudit(query: { model?: string; actor?: string; type?: string; since?: string; until?: string; after?: number; limit?: number } = {}): Promise<AuditSearch> {
    return this.call('searchAudit', { query });
  }

  getEvaluationSet(name: string): Promise<{ name: string; versions: ReadonlyArray<Record<string, unknown>> }> {
    return this.call('getEvaluationSet', { params: { name } });
  }

  listWebhooks(): Promise<Page<Webhook>> {
    return this.call('listWebhooks', {});
  }

  createWebhook(input: CreateWebhookInput): Promise<Webhook> {
    return this.call('createWebhook', { body: input });
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.call('deleteWebhook', { params: { id } });
  }

  listWebhookDeliveries(id: string, query: { status?: string; limit?: number; offset?: number } = {}): Promise<Page<WebhookDelivery>> {
    return this.call('listWebhookDeliveries', { params: { id }, query });
  }

  listDeadLetters(query: { group?: string; status?: 'open' | 'redriven' | 'all'; limit?: number; offset?: number } = {}): Promise<Page<DeadLetter>> {
    return this.call('listDeadLetters', { query });
  }

  redriveDeadLetter(id: string, options: { idempotencyKey?: string } = {}): Promise<DeadLetter> {
    return this.call('redriveDeadLetter', { params: { id }, ...options });
  }

  /** Who the token is: subject, roles, model scope. */
  whoAmI(): Promise<Self> {
    return this.call('whoAmI', {});
  }

  /** The stage board: every version not archived, by stage, and every model with what it serves. */
  board(): Promise<Board> {
    return this.call('board', {});
  }

  /** Replaces the model's policy (admin); a refusal lists each field's problem. */
  setPolicy(name: string, policy: unknown): Promise<Model['policy']> {
    return this.call('setPolicy', { params: { name }, body: policy });
  }

  compareVersions(name: string, versions: readonly number[]): Promise<VersionComparison> {
    return this.call('compareVersions', { params: { name }, query: { versions: versions.join(',') } });
  }

  listDeployments(query: { model?: string; environment?: string; status?: Deployment['status']; limit?: number; offset?: number } = {}): Promise<Page<Deployment>> {
    return this.call('listDeployments', { query });
  }

  getWebhook(id: string): Promise<Webhook> {
    return this.call('getWebhook', { params: { id } });
  }

  /** Sends a delivery again, with its original `webhook-id` so the receiver can deduplicate. */
  redeliverWebhook(id: string, delivery: string): Promise<WebhookDelivery> {
    return this.call('redeliverWebhook', { params: { id, delivery } });
  }

  /** The URL of a route of the table, its placeholders and query filled in. */
  protected urlOf(name: ApiRouteName, params: Readonly<Record<string, string | number>> = {}, query: Query = {}): string {
    const route = API_ROUTES[name];
    const path = route.path.replace(/\{(\w+)\}/g, (_, key: string) => {
      const value = params[key];
      if (value === undefined) throw new Error(`${name}: missing path parameter ${key}`);
      return encodeURIComponent(String(value));
    });
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      // Only what the table declares is sent, so the OpenAPI check covers every parameter.
      if (!(route.query as readonly string[]).includes(key)) throw new Error(`${name}: query parameter ${key} is not in API_ROUTES`);
      search.set(key, String(value));
    }
    const qs = search.toString();
    return `${this.url}${API_PREFIX}${path}${qs ? `?${qs}` : ''}`;
  }

  protected headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      accept: 'application/json, application/problem+json',
      'user-agent': this.userAgent,
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...extra,
    };
  }

  protected async call<T>(name: ApiRouteName, options: CallOptions): Promise<T> {
    const { method } = API_ROUTES[name];
    const url = this.urlOf(name, options.params, options.query);
    const hasBody = options.body !== undefined;
    const response = await this.send(url, {
      method,
      headers: this.headers({
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      }),
      ...(hasBody ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return this.answer<T>(response, method, url);
  }

  protected async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, init);
    } catch (error) {
      throw new MrwConnectionError(this.url, systemCode(error), { cause: error });
    }
  }

  protected async answer<T>(response: Response, method: string, url: string): Promise<T> {
    const text = await response.text();
    if (!response.ok) throw apiErrorFrom(response.status, text, method, url);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** `ECONNREFUSED` and the like from undici's `fetch failed` (the cause, or the cause's cause); `ETIMEDOUT` for our own timeout. */
const systemCode = (error: unknown): string | undefined => {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const e = current as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown[] };
    if (e.name === 'TimeoutError') return 'ETIMEDOUT';
    if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) return e.code;
    if (Array.isArray(e.errors) && e.errors.length > 0) current = e.errors[0];
    else current = e.cause;
  }
  return undefined;
};
