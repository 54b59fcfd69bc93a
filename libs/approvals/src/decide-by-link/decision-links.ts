import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { deriveId, isUuid, SUBJECT_PATTERN } from '@mrw/contracts';
import { ProblemException, ServerSecrets, SignedTokens, SUITE_CONFIG, type SignedClaims, type SuiteConfig } from '@mrw/platform';

export type LinkDecision = 'approve' | 'reject';
export const LINK_DECISIONS: readonly LinkDecision[] = ['approve', 'reject'];

/** What a decision link's token binds: one approval, one person, one decision, until a time, once. */
export interface DecisionLinkClaims extends SignedClaims {
  /** The approval request. */
  readonly aid: string;
  /** The registry subject the link was sent to: who decides by using it. */
  readonly sub: string;
  readonly dec: LinkDecision;
  /** Shared by the approve and reject links of one notification: using either spends both. */
  readonly non: string;
}

/** The approve and reject links of one notification to one reviewer. */
export interface DecisionLinkPair {
  readonly approve: string;
  readonly reject: string;
  readonly expiresAt: string;
  readonly nonce: string;
}

/** The purpose its signing key is derived for: a token of another purpose never passes. */
export const DECISION_LINK_PURPOSE = 'decision-links';

/** The id of the command a link's use sends: one per link pair, so however often it is posted it decides once. */
export const linkCommandId = (nonce: string): string => deriveId(nonce, 'decision-link');

/**
 * Signed one-click decision links (`MRW_PUBLIC_URL/api/v1/approval-links/{id}/approve?token=…`):
 * HMAC-SHA256 under a key derived from the server secret, so any process of the suite can
 * check a link and no one without the secret can make or alter one.
 */
@Injectable()
export class DecisionLinks {
  private readonly tokens: SignedTokens<DecisionLinkClaims>;

  constructor(
    @Inject(ServerSecrets) secrets: ServerSecrets,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
  ) {
    this.tokens = new SignedTokens<DecisionLinkClaims>(secrets, DECISION_LINK_PURPOSE);
  }

  /** The approve and reject links for `subject` on approval `approvalId`, valid until `expiresAt` (usually the approval's own expiry). */
  createDecisionLinks(approvalId: string, subject: string, expiresAt: Date | string): DecisionLinkPair {
    if (!isUuid(approvalId)) throw new Error(`not an approval id: ${approvalId}`);
    if (!SUBJECT_PATTERN.test(subject)) throw new Error(`not a subject: ${subject}`);
    const expiry = typeof expiresAt === 'string' ? new Date(expiresAt) : expiresAt;
    if (Number.isNaN(expiry.getTime())) throw new Error(`not a time: ${String(expiresAt)}`);
    const nonce = randomBytes(16).toString('base64url');
    const exp = Math.floor(expiry.getTime() / 1000);
    const url = (dec: LinkDecision) =>
      `${this.config.publicUrl}/api/v1/approval-links/${approvalId}/${dec}?token=${this.tokens.sign({ aid: approvalId, sub: subject, dec, non: nonce, exp })}`;
    return { approve: url('approve'), reject: url('reject'), expiresAt: new Date(exp * 1000).toISOString(), nonce };
  }

  /**
   * The claims of a link's token for this approval and decision, or the refusal: 403
   * `LINK_INVALID` for a token that is malformed, not ours, or altered (including one moved to
   * another approval or decision), 410 `LINK_EXPIRED` after its time.
   */
  verify(token: string, approvalId: string, decision: string, now: Date): DecisionLinkClaims {
    return this.tokens.claimsFor(
      token,
      now,
      (claims) =>
        claims.aid === approvalId &&
        claims.dec === decision &&
        typeof claims.sub === 'string' &&
        SUBJECT_PATTERN.test(claims.sub) &&
        typeof claims.non === 'string' &&
        /^[A-Za-z0-9_-]{16,64}$/.test(claims.non),
      {
        expired: () => new ProblemException('LINK_EXPIRED', 'This link has expired; decide in the registry (the approvals inbox) or ask for a new notification.', {}, 410),
        invalid: () =>
          new ProblemException('LINK_INVALID', 'This link is not valid: it was altered, cut short, or not made by this registry. Use the link exactly as you received it.', {}, 403),
      },
    );
  }
}
