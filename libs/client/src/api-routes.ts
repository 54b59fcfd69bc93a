/**
 * Every operation the client calls, in one table: the client can only call what is listed here
 * (its requests are built from this table), and a test checks each entry — method, path and the
 * query parameters it sends — against the registry's OpenAPI document, so a renamed route or
 * parameter fails a test instead of a user.
 */
export const API_ROUTES = {
  listModels: { method: 'GET', path: '/models', query: ['stage', 'tag', 'q', 'limit', 'offset'] },
  getModel: { method: 'GET', path: '/models/{name}', query: ['asOf'] },
  createModel: { method: 'POST', path: '/models', query: [] },
  listVersions: { method: 'GET', path: '/models/{name}/versions', query: ['stage', 'limit', 'offset'] },
  getVersion: { method: 'GET', path: '/models/{name}/versions/{version}', query: ['asOf'] },
  registerVersion: { method: 'POST', path: '/models/{name}/versions', query: [] },
  requestTransition: { method: 'POST', path: '/models/{name}/versions/{version}/transitions', query: [] },
  uploadArtifact: { method: 'POST', path: '/artifacts', query: [] },
  listApprovals: { method: 'GET', path: '/approvals', query: ['status', 'model', 'reviewer', 'limit', 'offset'] },
  getApproval: { method: 'GET', path: '/approvals/{id}', query: [] },
  approve: { method: 'POST', path: '/approvals/{id}/approve', query: [] },
  reject: { method: 'POST', path: '/approvals/{id}/reject', query: [] },
  requestRollback: { method: 'POST', path: '/models/{name}/rollback', query: [] },
  versionAudit: { method: 'GET', path: '/models/{name}/versions/{version}/audit', query: [] },
  verifyVersionAudit: { method: 'GET', path: '/models/{name}/versions/{version}/audit/verify', query: [] },
  searchAudit: { method: 'GET', path: '/audit', query: ['model', 'actor', 'type', 'since', 'until', 'after', 'limit'] },
  streamEvents: { method: 'GET', path: '/events/stream', query: ['model'] },
  uploadEvaluationSet: { method: 'POST', path: '/evaluation-sets/{name}/versions', query: [] },
  getEvaluationSet: { method: 'GET', path: '/evaluation-sets/{name}', query: [] },
  listWebhooks: { method: 'GET', path: '/webhooks', query: [] },
  createWebhook: { method: 'POST', path: '/webhooks', query: [] },
  deleteWebhook: { method: 'DELETE', path: '/webhooks/{id}', query: [] },
  listWebhookDeliveries: { method: 'GET', path: '/webhooks/{id}/deliveries', query: ['status', 'limit', 'offset'] },
  listDeadLetters: { method: 'GET', path: '/dead-letters', query: ['group', 'status', 'limit', 'offset'] },
  redriveDeadLetter: { method: 'POST', path: '/dead-letters/{id}/redrive', query: [] },
  whoAmI: { method: 'GET', path: '/tokens/self', query: [] },
  board: { method: 'GET', path: '/board', query: [] },
  setPolicy: { method: 'PUT', path: '/models/{name}/policy', query: [] },
  compareVersions: { method: 'GET', path: '/models/{name}/compare', query: ['versions'] },
  listDeployments: { method: 'GET', path: '/deployments', query: ['model', 'environment', 'status', 'limit', 'offset'] },
  getWebhook: { method: 'GET', path: '/webhooks/{id}', query: [] },
  redeliverWebhook: { method: 'POST', path: '/webhooks/{id}/deliveries/{delivery}/redeliver', query: [] },
} as const satisfies Record<string, ApiRoute>;

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to `/api/v1`, with `{param}` placeholders as in the OpenAPI document. */
  readonly path: string;
  readonly query: readonly string[];
}

export type ApiRouteName = keyof typeof API_ROUTES;

/** The prefix of every route of the public API. */
export const API_PREFIX = '/api/v1';
