import { Module } from '@nestjs/common';
import { DeployerBusController } from './deployer.bus.controller';

/** The deployer service: consumer group `mrw-deployer` on the registry's events. */
@Module({
  controllers: [DeployerBusController],
})
export class DeployerModule {}
