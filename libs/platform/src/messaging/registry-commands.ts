import { Inject, Injectable } from '@nestjs/common';
import { HEADERS, modelVersionStream, TOPICS, type CommandMessage, type ServiceName } from '@mrw/contracts';
import { MESSAGE_BUS, type MessageBus } from '@mrw/messaging';
import { failureKind, TransientError } from '@mrw/resilience';
import { TokenDirectory } from '../auth/token-directory';
import { ConfigError, SUITE_CONFIG, type SuiteConfig } from '../config/config';

/**
 * How a service tells the registry something: a command on `mrw.registry.commands.v1`,
 * keyed by the target stream. Over Kafka it is signed with the service's token
 * (MRW_SERVICE_TOKEN; the secret itself never goes on the topic); in embedded mode the
 * in-process bus vouches for the sender.
 */
@Injectable()
export class RegistryCommands {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly tokens: TokenDirectory,
  ) {}

  async send(service: ServiceName, command: CommandMessage): Promise<void> {
    const headers: Record<string, string> = {
      [HEADERS.commandType]: command.type,
      [HEADERS.commandId]: command.commandId,
      [HEADERS.correlationId]: command.correlationId,
      ...(command.causationId ? { [HEADERS.causationId]: command.causationId } : {}),
    };
    const value = JSON.stringify(command);
    if (this.config.bus === 'kafka') {
      if (!this.config.serviceToken) {
        throw new ConfigError(`${service} needs MRW_SERVICE_TOKEN (a token of kind service with role service) to send commands`);
      }
      const signature = this.tokens.signCommand(this.config.serviceToken, value);
      if (!signature) {
        throw new ConfigError(`${service}'s MRW_SERVICE_TOKEN is not a live token of this suite: seed it (MRW_SEED_TOKENS_FILE) or issue one`);
      }
      headers[HEADERS.authorization] = signature;
    }
    await this.bus.publish(
      TOPICS.commands,
      [{ key: modelVersionStream(command.model, command.version), value, headers }],
      { publishedBy: service },
    );
  }

  /**
   * `send` for a durable timer's handler: not sent is not refused (the registry dead-letters
   * refusals itself), so any failure that is not permanent — a broker away — is thrown as
   * transient, and the timer runs again with backoff instead of giving up.
   */
  async sendRetryable(service: ServiceName, command: CommandMessage): Promise<void> {
    try {
      await this.send(service, command);
    } catch (error) {
      if (failureKind(error) === 'permanent') throw error;
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      throw new TransientError(`${command.type} for ${command.model}@${command.version} not sent: ${reason}`, { cause: error });
    }
  }
}
