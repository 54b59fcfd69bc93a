import { Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { SERVICE_COMMANDS, SERVICE_NAMES } from '@mrw/contracts';
import { PoisonMessageError, type IncomingMessage } from '@mrw/messaging';
import { BusController, ProblemException, serviceCommand, TokenDirectory } from '@mrw/platform';
import { mayIssue, parseCommandMessage, serviceOf } from './service-command.parser';
import { ServiceCommandsHandler } from './service-commands.handler';

/** Every command a suite service may send the registry. */
const COMMAND_TYPES = [...new Set(SERVICE_NAMES.flatMap((service) => SERVICE_COMMANDS[service]))];

/**
 * Consumer group `mrw-registry` on `mrw.registry.commands.v1`: commands from the suite's
 * services, authenticated by their signature, deduplicated by command id (a replayed
 * command appends nothing), and turned into audited events. A command that cannot be read,
 * is not signed by a live service token, or is refused by the lifecycle rules goes to the
 * DLQ with the reason, where an admin can see it and redrive it once the cause is fixed; a
 * store or broker outage is retried until it passes.
 */
@BusController()
export class ServiceCommandsBusController {
  private readonly logger = new Logger('service-commands');

  constructor(
    private readonly tokens: TokenDirectory,
    private readonly handler: ServiceCommandsHandler,
  ) {}

  @EventPattern(COMMAND_TYPES.map(serviceCommand))
  async command(@Payload() message: IncomingMessage): Promise<void> {
    const { name: service, models } = serviceOf(message, (authorization, value) => this.tokens.verifyCommand(authorization, value));
    const command = parseCommandMessage(message);
    if (!mayIssue(service, command.type)) throw new PoisonMessageError(`${service} may not send ${command.type}`);
    if (models.length > 0 && !models.includes(command.model)) {
      throw new PoisonMessageError(`${service}'s token is limited to ${models.join(', ')}; it may not act on ${command.model}`);
    }
    try {
      await this.handler.handle(service, command);
    } catch (error) {
      if (!(error instanceof ProblemException) || error.status >= 500) throw error;
      this.logger.warn(`${service}'s ${command.type} for ${command.model}@${command.version} refused: ${error.code} ${error.message}`);
      throw new PoisonMessageError(`refused: ${error.code} ${error.message}`);
    }
  }
}
