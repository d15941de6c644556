import { GuestActionCommand } from '../src/cli/guest-command.js';
import type { CommandContext, Outcome } from '../src/cli/base-command.js';
import type { Services } from '../src/orchestrator/services.js';

export default class Return extends GuestActionCommand<typeof Return> {
  static override summary = 'Bring back the guests that were migrated away (by evacuate, or a stop with ON_SHUTDOWN=migrate).';
  static override description =
    'For each guest recorded beside the list file as running on a peer, the peer migrates it back (to MIGRATE_RETURN_URI, else the URI it left from), live with MIGRATE_LIVE=1. A guest that no longer exists on the peer is dropped from the record; one that fails stays recorded (exit 1).';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --dry-run'];

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ returnGuests }, { renderMigrate }] = await Promise.all([import('../src/orchestrator/migrate.js'), import('../src/ui/summary.js')]);
    const result = await returnGuests(
      { config: context.loaded.config, dryRun: this.actionFlags['dry-run'], listFile: context.paths.listFile },
      services,
    );
    return { result, text: renderMigrate(result) };
  }
}
