import { Inject, Injectable } from '@nestjs/common';
import { isUuid } from '@mrw/contracts';
import { ProblemException, ServerSecrets, SignedTokens, SUITE_CONFIG, type SignedClaims, type SuiteConfig } from '@mrw/platform';

/** What a callback token binds: one deployment, one of its targets, until a time. */
export interface CallbackClaims extends SignedClaims {
  /** The deployment. */
  readonly did: string;
  /** The target's index in the deployment's targets. */
  readonly tgt: number;
}

/** The purpose its signing key is derived for: a decision link's token never passes as a callback's. */
export const CALLBACK_TOKEN_PURPOSE = 'deployment-callbacks';

/**
 * How long after the deployment's deadline a callback is still accepted: a pipeline that
 * finished just in time, reporting over a slow network, is not refused for seconds.
 */
export const CALLBACK_GRACE_MS = 5 * 60_000;

/**
 * The callback URLs handed to pipelines: `MRW_PUBLIC_URL/api/v1/deployments/{id}/callback?token=…`,
 * HMAC-signed under a key derived from the server secret. A token is deterministic for its
 * deployment, target and expiry, so a trigger sent again carries the same URL; it is spent
 * durably by the first report (the run's `DeploymentTargetReported`).
 */
@Injectable()
export class CallbackTokens {
  private readonly tokens: SignedTokens<CallbackClaims>;

  constructor(
    @Inject(ServerSecrets) secrets: ServerSecrets,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
  ) {
    this.tokens = new SignedTokens<CallbackClaims>(secrets, CALLBACK_TOKEN_PURPOSE);
  }

  /** The callback URL of one target of a deployment, valid until `deadline` plus the grace. */
  callbackUrl(deploymentId: string, target: number, deadline: Date | string): string {
    const exp = Math.floor((new Date(deadline).getTime() + CALLBACK_GRACE_MS) / 1000);
    return `${this.config.publicUrl}/api/v1/deployments/${deploymentId}/callback?token=${this.tokens.sign({ did: deploymentId, tgt: target, exp })}`;
  }

  /**
   * The claims of a callback token for this deployment, or the refusal: 403
   * `CALLBACK_TOKEN_INVALID` for one that is malformed, not ours, altered or for another
   * deployment; 410 `CALLBACK_TOKEN_EXPIRED` after its time.
   */
  verify(token: string, deploymentId: string, now: Date): CallbackClaims {
    return this.tokens.claimsFor(
      token,
      now,
      (claims) => claims.did === deploymentId && isUuid(deploymentId) && Number.isSafeInteger(claims.tgt) && claims.tgt >= 0,
      {
        expired: () => new ProblemException('CALLBACK_TOKEN_EXPIRED', 'This callback URL has expired: the deployment is past its timeout.', {}, 410),
        invalid: () =>
          new ProblemException('CALLBACK_TOKEN_INVALID', 'This callback token is not valid for this deployment: use the callback URL exactly as the deployer sent it.', {}, 403),
      },
    );
  }
}
