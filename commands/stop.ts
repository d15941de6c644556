import { GuestActionCommand } from '../src/cli/guest-command.js';
import type { CommandContext, Outcome } from '../src/cli/base-command.js';
import { stopRequest } from '../src/cli/requests.js';
import type { Services } from '../src/orchestrator/services.js';

export default class Stop extends GuestActionCommand<typeof Stop> {
  static override summary = 'Suspend, shut down or migrate every running guest (ON_SHUTDOWN, or the guest\'s policy) and record them for start.';
  static override description =
    'Lists the running guests of every URI in URIS, writes them to the list file, then saves them (managed save, PARALLEL_SUSPEND at a time) or shuts them down (PARALLEL_SHUTDOWN, SHUTDOWN_TIMEOUT), or migrates them to MIGRATE_URI (PARALLEL_MIGRATE; recorded beside the list file, MIGRATE_FALLBACK for a guest that cannot go), tier by tier when guests have a policy. Every URI is handled at the same time. Exit 1 when a guest could not be handled or a URI could not be reached.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --json > /var/log/libvirt-guests-stop.json',
  ];

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ stopGuests }, { renderStop }] = await Promise.all([import('../src/orchestrator/stop.js'), import('../src/ui/summary.js')]);
    const result = await stopGuests(stopRequest(context, 'stop', this.actionFlags['dry-run']), services);
    return { result, text: renderStop(result) };
  }
}
