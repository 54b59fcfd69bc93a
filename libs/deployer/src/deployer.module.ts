import { Module } from '@nestjs/common';
import { OutboundHttp } from '@mrw/outbound';
import { CLOCK, durableTimersProviders, type Clock } from '@mrw/platform';
import { DeployerBusController } from './deployer.bus.controller';
import { ArgoCdTarget } from './deployment-targets/argocd.target';
import { DeploymentTargets } from './deployment-targets/deployment-target';
import { GitHubActionsTarget } from './deployment-targets/github-actions.target';
import { GitLabTarget } from './deployment-targets/gitlab.target';
import { KServeTarget } from './deployment-targets/kserve.target';
import { TARGET_ENVIRONMENT, type TargetEnvironment } from './deployment-targets/target-http';
import { WebhookTarget } from './deployment-targets/webhook.target';
import { DeploymentBook } from './follow-deployments/deployment-book';
import { DeploymentsController } from './follow-deployments/deployments.http.controller';
import { CallbackTokens } from './report-outcome/callback-tokens';
import { DeploymentCallbackController } from './report-outcome/deployment-callback.http.controller';
import { DeploymentRuns } from './trigger-deployments/deployment-runs';
import { LocalTarget } from './serve-locally/local.target';
import { ShadowDeployments } from './serve-shadow/shadow-deployments';
import { DEPLOYER_TIMERS, DeploymentTrigger } from './trigger-deployments/deployment-trigger';

/**
 * The deployer service: consumer group `mrw-deployer` on the registry's events, its durable
 * timers, the deployment targets it triggers, the callback route pipelines report to, and the
 * deployments API. The `local` target kind is the deployer's own serving runtime.
 */
@Module({
  controllers: [DeployerBusController, DeploymentCallbackController, DeploymentsController],
  providers: [
    ...durableTimersProviders(DEPLOYER_TIMERS, 'deployer'),
    // Credentials named by target settings (`tokenEnv`) are read from the deployer's environment.
    { provide: TARGET_ENVIRONMENT, useValue: process.env },
    {
      provide: DeploymentTargets,
      useFactory: (http: OutboundHttp, env: TargetEnvironment, clock: Clock) => {
        const targets = new DeploymentTargets();
        targets.register(new GitHubActionsTarget(http, env));
        targets.register(new GitLabTarget(http, env));
        targets.register(new ArgoCdTarget(http, env));
        targets.register(new WebhookTarget(http, env, clock));
        targets.register(new KServeTarget(http, env));
        return targets;
      },
      inject: [OutboundHttp, TARGET_ENVIRONMENT, CLOCK],
    },
    // What the deployer knows from the log: deployments, artifacts, policies.
    DeploymentBook,
    // Its own record of each deployment (private streams) and the process that drives it.
    DeploymentRuns,
    CallbackTokens,
    DeploymentTrigger,
    // The local serving runtime registers the `local` target kind (the embedded default).
    LocalTarget,
    // Shadow evaluation: candidates served in the local runtime's `shadow` environment.
    ShadowDeployments,
  ],
  exports: [DEPLOYER_TIMERS, DeploymentTargets, DeploymentTrigger, DeploymentBook],
})
export class DeployerModule {}
