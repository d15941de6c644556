import { GuestActionCommand } from '../src/cli/guest-command.js';
import type { CommandContext, Outcome } from '../src/cli/base-command.js';
import type { Services } from '../src/orchestrator/services.js';

export default class GuestStatus extends GuestActionCommand<typeof GuestStatus> {
  static override summary = 'List the running guests of every URI in URIS; exit 1 when a URI cannot be reached.';
  static override description = 'Prints "* URI URI:" and a table of running guests for each URI, read-only.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ guestStatus }, { renderGuestStatus }] = await Promise.all([import('../src/orchestrator/guest-status.js'), import('../src/ui/summary.js')]);
    const result = await guestStatus(context.loaded.config, services);
    return { result, text: renderGuestStatus(result) };
  }
}
