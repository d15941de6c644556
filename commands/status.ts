import { GuestsCommand, type CommandContext, type Outcome } from '../src/cli/base-command.js';
import { serviceStatus } from '../src/orchestrator/service-status.js';

export default class Status extends GuestsCommand {
  static override summary = 'Tell whether guests were saved and not yet restored (exit 3), or the service is started (exit 0).';
  static override description =
    'Prints "stopped, with saved guests" (exit 3) when the list file exists, "started" (exit 0) when the lock file exists, else "stopped, with no saved guests" (exit 3), as the original does.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  protected async execute({ files, paths }: CommandContext): Promise<Outcome> {
    const result = await serviceStatus(files, paths);
    return { result, text: result.message };
  }
}
