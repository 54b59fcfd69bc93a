import type { CommandMessage } from '@mrw/contracts';
import type { DirectoryToken } from '@mrw/platform';
import { principalOnModel, relayedDecisionOf } from './relayed-decision';

const token = (roles: DirectoryToken['roles'], models: string[] = [], extra: Partial<DirectoryToken> = {}): DirectoryToken => ({
  tokenId: `t-${roles.join('-')}-${models.join('-')}`,
  subject: 'rita',
  kind: 'user',
  roles,
  models,
  issuedAt: '2026-11-01T00:00:00Z',
  issuedBy: 'admin',
  revokedAt: null,
  ...extra,
});

const command = (data: Record<string, unknown>): CommandMessage => ({
  commandId: 'c',
  type: 'GrantApproval',
  model: 'churn',
  version: 1,
  data,
  correlationId: 'c',
  causationId: null,
});

describe("a relayed decision's principal", () => {
  it("unites the roles of the person's live tokens that cover the model, and is scoped to that model", () => {
    expect(principalOnModel([token(['viewer']), token(['reviewer'], ['churn'])], 'churn')).toEqual({ roles: ['viewer', 'reviewer'], models: ['churn'] });
  });

  it('does not let an unscoped token of a lesser role widen a scoped reviewer token to other models', () => {
    expect(principalOnModel([token(['viewer']), token(['reviewer'], ['churn'])], 'fraud')).toEqual({ roles: ['viewer'], models: ['fraud'] });
  });

  it('is undefined without a live user token covering the model', () => {
    expect(principalOnModel([], 'churn')).toBeUndefined();
    expect(principalOnModel([token(['reviewer'], [], { revokedAt: '2026-11-02T00:00:00Z' })], 'churn')).toBeUndefined();
    expect(principalOnModel([token(['reviewer'], [], { kind: 'service' })], 'churn')).toBeUndefined();
    expect(principalOnModel([token(['reviewer'], ['fraud'])], 'churn')).toBeUndefined();
  });
});

describe('reading a relayed decision', () => {
  it('makes the person the actor and the approvals service the relaying party', () => {
    expect(relayedDecisionOf('approvals', command({ approvalId: 'a', comment: null, onBehalfOf: 'rita', channel: 'slack' }))).toEqual({
      approvalId: 'a',
      comment: '',
      person: { kind: 'user', id: 'rita' },
      channel: 'slack',
      relayedBy: { kind: 'service', id: 'approvals' },
    });
  });

  it.each([
    ['another service', 'deployer', { onBehalfOf: 'rita', channel: 'link' }, /deployer may not relay/],
    ['a direct channel', 'approvals', { onBehalfOf: 'rita', channel: 'api' }, /channel must be one of link, slack, teams/],
    ['no subject', 'approvals', { onBehalfOf: ' rita', channel: 'link' }, /onBehalfOf must be a subject/],
    ['a long comment', 'approvals', { onBehalfOf: 'rita', channel: 'link', comment: 'x'.repeat(5001) }, /at most 5000/],
  ] as const)('refuses %s as poison', (_, service, data, message) => {
    expect(() => relayedDecisionOf(service, command({ approvalId: 'a', comment: null, ...data }))).toThrow(message);
  });
});
