import { Inject, Injectable } from '@nestjs/common';
import { HEADERS, modelVersionStream, TOPICS, type CommandMessage, type ServiceName } from '@mrw/contracts';
import { MESSAGE_BUS, type MessageBus } from '@mrw/messaging';
import { ConfigError, SUITE_CONFIG, type SuiteConfig } from '../config/config';

/**
 * How a service tells the registry something: a command on `mrw.registry.commands.v1`,
 * keyed by the target stream. Over Kafka it carries the service's token (MRW_SERVICE_TOKEN);
 * in embedded mode the in-process bus vouches for the sender.
 */
@Injectable()
export class RegistryCommands {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
  ) {}

  async send(service: ServiceName, command: CommandMessage): Promise<void> {
    const headers: Record<string, string> = {
      [HEADERS.commandType]: command.type,
      [HEADERS.commandId]: command.commandId,
      [HEADERS.correlationId]: command.correlationId,
    };
    if (this.config.bus === 'kafka') {
      if (!this.config.serviceToken) {
        throw new ConfigError(`${service} needs MRW_SERVICE_TOKEN (a token of kind service with role service) to send commands`);
      }
      headers[HEADERS.authorization] = `Bearer ${this.config.serviceToken}`;
    }
    await this.bus.publish(
      TOPICS.commands,
      [{ key: modelVersionStream(command.model, command.version), value: JSON.stringify(command), headers }],
      { publishedBy: service },
    );
  }
}
