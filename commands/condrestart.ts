import { GuestActionCommand } from '../src/cli/guest-command.js';
import type { CommandContext, Outcome } from '../src/cli/base-command.js';
import { startRequest, stopRequest } from '../src/cli/requests.js';
import type { Services } from '../src/orchestrator/services.js';

/** Also `try-restart` (commands/try-restart.ts), the original's other name for it. */
export default class Condrestart extends GuestActionCommand<typeof Condrestart> {
  static override summary = 'Restart only when the service was started (its lock file exists); otherwise do nothing.';
  static override description =
    'Only when the service was started (its lock file exists): stop, then start (which resumes what stop just recorded), as the original. Exit 1 when either failed. Without the lock file nothing is done: exit 0.';
  static override examples = ['<%= config.bin %> <%= command.id %>'];

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const dryRun = this.actionFlags['dry-run'];
    const command = this.id === 'try-restart' ? 'try-restart' : 'condrestart';
    const [{ restartService }, { renderRestart }] = await Promise.all([import('../src/orchestrator/restart.js'), import('../src/ui/summary.js')]);
    const result = await restartService(command, stopRequest(context, 'stop', dryRun), startRequest(context, dryRun), services);
    return { result, text: renderRestart(result) };
  }
}
