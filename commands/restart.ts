import { GuestActionCommand } from '../src/cli/guest-command.js';
import type { CommandContext, Outcome } from '../src/cli/base-command.js';
import { startRequest, stopRequest } from '../src/cli/requests.js';
import type { Services } from '../src/orchestrator/services.js';

export default class Restart extends GuestActionCommand<typeof Restart> {
  static override summary = 'Stop then start: save or shut down the running guests, then bring them back.';
  static override description = 'As the original: stop, then start (which resumes what stop just recorded). Exit 1 when either failed.';
  static override examples = ['<%= config.bin %> <%= command.id %>'];

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const dryRun = this.actionFlags['dry-run'];
    const [{ restartService }, { renderRestart }] = await Promise.all([import('../src/orchestrator/restart.js'), import('../src/ui/summary.js')]);
    const result = await restartService('restart', stopRequest(context, 'stop', dryRun), startRequest(context, dryRun), services);
    return { result, text: renderRestart(result) };
  }
}
