import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CONSUMER_GROUPS, TOPIC_PARTITIONS, TOPICS } from '@mrw/contracts';
import { MESSAGE_BUS, PoisonMessageError, type MessageBus, type RunningConsumer } from '@mrw/messaging';
import { Metrics, ProblemException, SUITE_CONFIG, TokenDirectory, type SuiteConfig } from '@mrw/platform';
import { mayIssue, parseCommandMessage, serviceOf } from './service-command.parser';
import { ServiceCommandsHandler } from './service-commands.handler';

/**
 * Consumer group `mrw-registry` on `mrw.registry.commands.v1`: commands from the suite's
 * services, authenticated as service identities, deduplicated by command id (a replayed
 * command appends nothing), and turned into audited events. A command the rules refuse is
 * answered by the refusal being logged and counted; an unreadable or unauthorised one goes
 * to the DLQ with the reason.
 */
@Injectable()
export class ServiceCommandConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('service-commands');
  private consumer: RunningConsumer | undefined;
  private starting: Promise<void> = Promise.resolve();

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly tokens: TokenDirectory,
    private readonly handler: ServiceCommandsHandler,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Joins the group in the background: after a crash the broker holds the dead member's
   * partitions until its session times out, and the registry's HTTP API must not wait.
   */
  onApplicationBootstrap(): void {
    this.starting = this.start().catch((error: unknown) => {
      this.logger.error(`cannot consume service commands: ${error instanceof Error ? error.stack : String(error)}`);
    });
  }

  private async start(): Promise<void> {
    if (this.config.bus === 'kafka') {
      await this.bus.ensureTopics([{ topic: TOPICS.commands, partitions: TOPIC_PARTITIONS[TOPICS.commands] ?? 6 }]);
    }
    const group = CONSUMER_GROUPS.registry;
    this.consumer = await this.bus.consume({
      groupId: group,
      topic: TOPICS.commands,
      handler: async (message) => {
        const { name: service, models } = serviceOf(message, (authorization, value) => this.tokens.verifyCommand(authorization, value));
        const command = parseCommandMessage(message);
        if (!mayIssue(service, command.type)) {
          throw new PoisonMessageError(`${service} may not send ${command.type}`);
        }
        if (models.length > 0 && !models.includes(command.model)) {
          throw new PoisonMessageError(`${service}'s token is limited to ${models.join(', ')}; it may not act on ${command.model}`);
        }
        try {
          await this.handler.handle(service, command);
          this.metrics.messagesConsumed.inc({ group, type: command.type, outcome: 'handled' });
        } catch (error) {
          if (!(error instanceof ProblemException) || error.status >= 500) throw error;
          this.metrics.messagesConsumed.inc({ group, type: command.type, outcome: 'refused' });
          this.logger.warn(`${service}'s ${command.type} for ${command.model}@${command.version} refused: ${error.code} ${error.message}`);
        }
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.starting;
    await this.consumer?.stop();
  }
}
