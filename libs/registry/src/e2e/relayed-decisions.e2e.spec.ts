import { randomUUID } from 'node:crypto';
import type { CommandMessage, ServiceName } from '@mrw/contracts';
import { EVENT_STORE, type EventStore } from '@mrw/event-store';
import { deadLetterStream } from '@mrw/messaging';
import { RegistryCommands } from '@mrw/platform';
import { startRegistry, type RegistryHarness } from '../testing/registry-harness';

/**
 * A person's decision relayed by the approvals service (a link, a chat button): the registry
 * records it as the person's, judged on the person's own live tokens, with the service as the
 * relaying party; nobody else may speak for a person.
 */
describe('relayed decisions (service commands on behalf of a person)', () => {
  let registry: RegistryHarness;
  let carol: string;
  let dan: string;

  beforeAll(async () => {
    registry = await startRegistry();
    carol = await registry.token('carol', ['contributor']);
    dan = await registry.token('dan', ['contributor']);
    await registry.token('rita', ['reviewer']);
    await registry.token('vic', ['viewer']);
    // A reviewer only for another model, and a viewer everywhere: no reviewer of `relay-*` models.
    await registry.token('sam', ['reviewer'], ['elsewhere']);
    await registry.token('sam', ['viewer']);
  });

  afterAll(async () => {
    await registry.close();
  });

  /** A version of a model without an evaluation policy, in Staging, with Production requested by carol (registered by dan). */
  const awaitingApproval = async (model: string): Promise<{ id: string; version: number }> => {
    expect((await registry.http('POST', '/api/v1/models', { token: carol, body: { name: model } })).status).toBe(201);
    const v = await registry.http('POST', `/api/v1/models/${model}/versions`, { token: dan, body: { source: `https://models.example.com/${model}.onnx` } });
    const version = v.body.version as number;
    await registry.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { token: carol, body: { toStage: 'Staging' } });
    const requested = await registry.http('POST', `/api/v1/models/${model}/versions/${version}/transitions`, { token: carol, body: { toStage: 'Production' } });
    expect(requested.body.request).toMatchObject({ status: 'awaiting-approval' });
    return { id: requested.body.request.approvalId as string, version };
  };

  const relay = (
    from: ServiceName,
    type: 'GrantApproval' | 'RejectApproval',
    model: string,
    version: number,
    data: Record<string, unknown>,
    commandId = randomUUID(),
  ): Promise<void> => {
    const command: CommandMessage = { commandId, type, model, version, data, correlationId: randomUUID(), causationId: null };
    return registry.app.get(RegistryCommands).send(from, command);
  };

  const decisionsOf = async (model: string, version: number): Promise<Array<{ type: string; actor: unknown; data: Record<string, unknown> }>> =>
    (await registry.http('GET', `/api/v1/models/${model}/versions/${version}/audit`)).body.events.filter((e: { type: string }) =>
      ['ApprovalGranted', 'ApprovalRejected'].includes(e.type),
    );

  /** The reasons of the registry's dead letters about commands with these ids. */
  const refusals = async (...commandIds: string[]): Promise<string[]> =>
    (await registry.app.get<EventStore>(EVENT_STORE).readStream(deadLetterStream('mrw-registry')))
      .map((e) => e.data as { reason: string; headers: Record<string, string> })
      .filter((letter) => commandIds.includes(letter.headers['command-id'] ?? ''))
      .map((letter) => letter.reason);

  it("records the person as actor, the channel, and the approvals service as relayedBy; the version reaches Production", async () => {
    const { id, version } = await awaitingApproval('relay-granted');
    const commandId = randomUUID();
    const grant = { approvalId: id, comment: 'from the mail', onBehalfOf: 'rita', channel: 'link' };
    await relay('approvals', 'GrantApproval', 'relay-granted', version, grant, commandId);
    await relay('approvals', 'GrantApproval', 'relay-granted', version, grant, commandId); // a redelivery

    expect(await decisionsOf('relay-granted', version)).toEqual([
      expect.objectContaining({
        type: 'ApprovalGranted',
        actor: { kind: 'user', id: 'rita' },
        data: expect.objectContaining({ approvalId: id, comment: 'from the mail', channel: 'link', relayedBy: { kind: 'service', id: 'approvals' } }),
      }),
    ]);
    expect((await registry.http('GET', `/api/v1/models/relay-granted/versions/${version}`)).body.stage).toBe('Production');
    expect(await refusals(commandId)).toEqual([]);
  });

  it('applies the same rules as to the person on the API: the requester is refused with APPROVER_IS_REQUESTER', async () => {
    const { id, version } = await awaitingApproval('relay-requester');
    const commandId = randomUUID();
    await relay('approvals', 'GrantApproval', 'relay-requester', version, { approvalId: id, comment: null, onBehalfOf: 'carol', channel: 'slack' }, commandId);
    expect(await decisionsOf('relay-requester', version)).toEqual([]);
    expect(await refusals(commandId)).toEqual([expect.stringMatching(/^PoisonMessageError: refused: NOT_A_REVIEWER /)]);
    // carol is a contributor, not a reviewer: give her the role and the requester rule speaks.
    const carolReviews = await registry.token('carol', ['reviewer']);
    expect(carolReviews).toEqual(expect.any(String));
    const second = randomUUID();
    await relay('approvals', 'GrantApproval', 'relay-requester', version, { approvalId: id, comment: null, onBehalfOf: 'carol', channel: 'slack' }, second);
    expect(await refusals(second)).toEqual([expect.stringMatching(/^PoisonMessageError: refused: APPROVER_IS_REQUESTER /)]);
    expect((await registry.http('GET', `/api/v1/approvals/${id}`)).body).toMatchObject({ status: 'pending', collected: 0 });
  });

  it('refuses a person without a live token that covers the model (unknown, viewer, scoped elsewhere, revoked) with NOT_A_REVIEWER', async () => {
    const { id, version } = await awaitingApproval('relay-unknown');
    const revoked = await registry.http('POST', '/api/v1/tokens', { body: { subject: 'ron', roles: ['reviewer'] } });
    expect((await registry.http('DELETE', `/api/v1/tokens/${revoked.body.id}`)).status).toBe(204);
    const ids = { nobody: randomUUID(), vic: randomUUID(), sam: randomUUID(), ron: randomUUID() };
    for (const [person, commandId] of Object.entries(ids)) {
      await relay('approvals', 'GrantApproval', 'relay-unknown', version, { approvalId: id, comment: 'ok', onBehalfOf: person, channel: 'link' }, commandId);
    }
    for (const commandId of Object.values(ids)) {
      expect(await refusals(commandId)).toEqual([expect.stringMatching(/^PoisonMessageError: refused: NOT_A_REVIEWER /)]);
    }
    expect(await decisionsOf('relay-unknown', version)).toEqual([]);
  });

  it('rejects on behalf of a reviewer, closing the request', async () => {
    const { id, version } = await awaitingApproval('relay-rejected');
    await relay('approvals', 'RejectApproval', 'relay-rejected', version, { approvalId: id, comment: 'latency', onBehalfOf: 'rita', channel: 'teams' });
    expect(await decisionsOf('relay-rejected', version)).toEqual([
      expect.objectContaining({
        type: 'ApprovalRejected',
        actor: { kind: 'user', id: 'rita' },
        data: expect.objectContaining({ channel: 'teams', relayedBy: { kind: 'service', id: 'approvals' } }),
      }),
    ]);
    expect((await registry.http('GET', `/api/v1/approvals/${id}`)).body.status).toBe('rejected');
  });

  it('lets no other service speak for a person, and refuses a relay without a person or through a direct channel, appending nothing', async () => {
    const { id, version } = await awaitingApproval('relay-forged');
    const ids = { evaluator: randomUUID(), deployer: randomUUID(), noPerson: randomUUID(), apiChannel: randomUUID(), badSubject: randomUUID() };
    await relay('evaluator', 'GrantApproval', 'relay-forged', version, { approvalId: id, comment: null, onBehalfOf: 'rita', channel: 'link' }, ids.evaluator);
    await relay('deployer', 'RejectApproval', 'relay-forged', version, { approvalId: id, comment: null, onBehalfOf: 'rita', channel: 'link' }, ids.deployer);
    await relay('approvals', 'GrantApproval', 'relay-forged', version, { approvalId: id, comment: null, channel: 'link' }, ids.noPerson);
    await relay('approvals', 'GrantApproval', 'relay-forged', version, { approvalId: id, comment: null, onBehalfOf: 'rita', channel: 'api' }, ids.apiChannel);
    await relay('approvals', 'GrantApproval', 'relay-forged', version, { approvalId: id, comment: null, onBehalfOf: 'rita carol', channel: 'link' }, ids.badSubject);
    expect(await refusals(ids.evaluator)).toEqual(['PoisonMessageError: evaluator may not send GrantApproval']);
    expect(await refusals(ids.deployer)).toEqual(['PoisonMessageError: deployer may not send RejectApproval']);
    expect(await refusals(ids.noPerson)).toEqual(['PoisonMessageError: GrantApproval: data.onBehalfOf must be string']);
    expect(await refusals(ids.apiChannel)).toEqual(['PoisonMessageError: GrantApproval: data.channel must be one of link, slack, teams']);
    expect(await refusals(ids.badSubject)).toEqual([expect.stringMatching(/data\.onBehalfOf must be a subject/)]);
    expect(await decisionsOf('relay-forged', version)).toEqual([]);
  });
});
