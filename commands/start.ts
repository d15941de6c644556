import { GuestActionCommand } from '../src/cli/guest-command.js';
import type { CommandContext, Outcome } from '../src/cli/base-command.js';
import { startRequest } from '../src/cli/requests.js';
import type { Services } from '../src/orchestrator/services.js';

export default class Start extends GuestActionCommand<typeof Start> {
  static override summary = 'Resume the guests recorded by the last stop (ON_BOOT=start), restoring saved memory.';
  static override description =
    'Starts every guest in the list file (restoring its managed save image when it has one), START_DELAY seconds apart or PARALLEL_START at a time, syncing clocks with SYNC_TIME=1. Guests that could not be handled stay in the list for the next start. Marks the service started (lock file).';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --dry-run'];

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ startGuests }, { renderStart }] = await Promise.all([import('../src/orchestrator/start.js'), import('../src/ui/summary.js')]);
    const result = await startGuests(startRequest(context, this.actionFlags['dry-run']), services);
    return { result, text: renderStart(result) };
  }
}
