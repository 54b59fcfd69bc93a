import { EventPattern, Payload } from '@nestjs/microservices';
import type { RecordedEvent } from '@mrw/event-store';
import { BusController, registryEvent } from '@mrw/platform';
import { ShadowDeployments } from './serve-shadow/shadow-deployments';
import { DeploymentTrigger } from './trigger-deployments/deployment-trigger';

/**
 * The registry events the deployer reacts to, as consumer group `mrw-deployer`. A rollback
 * arrives as the `DeploymentRequested` (purpose `rollback`) appended with its
 * `RollbackRequested`, so one handler carries out promotions and rollbacks alike. What the
 * handler schedules is durable before the group's offset moves, so a redelivered event
 * schedules nothing twice and a crash loses nothing. An `EvaluationRequested` that asks for
 * shadow scoring serves the candidate in the shadow environment.
 */
@BusController()
export class DeployerBusController {
  constructor(
    private readonly deployments: DeploymentTrigger,
    private readonly shadows: ShadowDeployments,
  ) {}

  @EventPattern(registryEvent('deployer', 'DeploymentRequested'))
  async requested(@Payload() event: RecordedEvent): Promise<void> {
    await this.deployments.requested(event);
  }

  /** Shadow evaluation: a request to score a candidate through the shadow environment makes the deployer serve it there. */
  @EventPattern(registryEvent('deployer', 'EvaluationRequested'))
  async evaluationRequested(@Payload() event: RecordedEvent): Promise<void> {
    await this.shadows.evaluationRequested(event);
  }
}
