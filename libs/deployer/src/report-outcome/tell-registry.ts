import type { CommandMessage } from '@mrw/contracts';
import type { RegistryCommands } from '@mrw/platform';
import { failureKind, TransientError } from '@mrw/resilience';

/**
 * Sends a deployer command to the registry. Not sent is not refused (the registry dead-letters
 * refusals itself): a broker away is transient, so the timer that sends it runs again.
 */
export const tellRegistry = async (commands: RegistryCommands, command: CommandMessage): Promise<void> => {
  try {
    await commands.send('deployer', command);
  } catch (error) {
    if (failureKind(error) === 'permanent') throw error;
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
    throw new TransientError(`${command.type} for ${command.model}@${command.version} not sent: ${reason}`, { cause: error });
  }
};
