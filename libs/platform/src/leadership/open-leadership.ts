import type { SuiteConfig } from '../config/config';
import type { Readiness } from '../observability/readiness';
import { SoloLeadership, type Leadership } from './leadership';
import { PostgresLeadership } from './postgres-leadership';

/**
 * The lease of `service`'s singleton work: on PostgreSQL, where replicas of a service share
 * the store, an advisory lock; otherwise the process is the only one and always leads.
 */
export const openLeadership = (config: SuiteConfig, service: string, readiness: Readiness): Leadership => {
  if (config.store !== 'postgres' || config.postgresUrl === undefined) return new SoloLeadership();
  const leadership = new PostgresLeadership({ connectionString: config.postgresUrl, schema: config.postgresSchema, lease: service });
  readiness.register({ name: 'leadership', check: async () => leadership.readiness() });
  return leadership;
};
