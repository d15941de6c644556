import { GuestActionCommand } from '../src/cli/guest-command.js';
import type { CommandContext, Outcome } from '../src/cli/base-command.js';
import { stopRequest } from '../src/cli/requests.js';
import type { Services } from '../src/orchestrator/services.js';

export default class Shutdown extends GuestActionCommand<typeof Shutdown> {
  static override summary = 'Like stop, but always shut guests down (ON_SHUTDOWN=shutdown), whatever the configuration says.';
  static override description =
    'Records the running guests in the list file and asks each to shut down, PARALLEL_SHUTDOWN at a time, waiting SHUTDOWN_TIMEOUT seconds (per guest when sequential, per URI when parallel). With FALLBACK=1 guests still running at the end are powered off.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --dry-run'];

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ stopGuests }, { renderStop }] = await Promise.all([import('../src/orchestrator/stop.js'), import('../src/ui/summary.js')]);
    const result = await stopGuests(stopRequest(context, 'shutdown', this.actionFlags['dry-run']), services);
    return { result, text: renderStop(result) };
  }
}
