import type { AccessTokenEvent, AccessTokenRecord, CommandMetadata, Role } from '@mrw/contracts';
import { fail, ok, type Result } from '../shared/result';
import type { Timed } from '../shared/timed';

type Command<Type extends string, Data> = { readonly type: Type; readonly data: Data; readonly metadata: CommandMetadata };

export type IssueAccessToken = Command<
  'IssueAccessToken',
  { tokenId: string; subject: string; kind: 'user' | 'service'; roles: Role[]; models: string[] }
>;
export type RevokeAccessToken = Command<'RevokeAccessToken', Record<string, never>>;
export type AccessTokenCommand = IssueAccessToken | RevokeAccessToken;

export type AccessTokenView = AccessTokenRecord;

export type AccessTokenState = { readonly status: 'absent' } | ({ readonly status: 'issued' } & AccessTokenView);

export const evolveAccessToken = (
  state: AccessTokenState,
  event: Timed<AccessTokenEvent> & { readonly actorId: string },
): AccessTokenState => {
  if (event.type === 'AccessTokenIssued') {
    return { status: 'issued', ...event.data, issuedAt: event.at, issuedBy: event.actorId, revokedAt: null };
  }
  return state.status === 'issued' ? { ...state, revokedAt: event.at } : state;
};

export const decideAccessToken = (
  command: AccessTokenCommand,
  state: AccessTokenState,
): Result<AccessTokenEvent[], 'TOKEN_ALREADY_EXISTS' | 'TOKEN_NOT_FOUND' | 'TOKEN_REVOKED'> => {
  if (command.type === 'IssueAccessToken') {
    if (state.status !== 'absent') return fail('TOKEN_ALREADY_EXISTS', `token ${command.data.tokenId} exists`);
    return ok([{ type: 'AccessTokenIssued', data: command.data }]);
  }
  if (state.status === 'absent') return fail('TOKEN_NOT_FOUND', 'no such token');
  if (state.revokedAt !== null) return fail('TOKEN_REVOKED', `token ${state.tokenId} is already revoked`);
  return ok([{ type: 'AccessTokenRevoked', data: { tokenId: state.tokenId } }]);
};
