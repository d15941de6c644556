import { Args, Flags } from '@oclif/core';
import { GuestActionCommand } from '../src/cli/guest-command.js';
import type { CommandContext, Outcome } from '../src/cli/base-command.js';
import type { Services } from '../src/orchestrator/services.js';

export default class Evacuate extends GuestActionCommand<typeof Evacuate> {
  static override summary = 'Drain this host: migrate its running guests (or the named ones) live to a peer host.';
  static override description =
    'Moves every running guest of every URI in URIS (or only the guests named) to the peer (--to, else MIGRATE_URI), PARALLEL_MIGRATE at a time, each within MIGRATE_TIMEOUT, live with MIGRATE_LIVE=1. The guests are defined on the peer and undefined here; where they went is recorded beside the list file, so that `return` (or `start` with MIGRATE_RETURN=1) brings them back. A guest that cannot be migrated keeps running here (exit 1). Nothing is shut down.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --to qemu+tls://peer.example/system',
    '<%= config.bin %> <%= command.id %> web1 db1',
    '<%= config.bin %> <%= command.id %> --dry-run --json',
  ];
  static override strict = false;
  static override args = { name: Args.string({ description: 'guests to migrate (names or UUIDs); all running guests when none' }) };
  static override flags = {
    to: Flags.string({ description: 'the peer to migrate to (default: MIGRATE_URI)', helpValue: 'URI' }),
  };

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ evacuate }, { renderMigrate }] = await Promise.all([import('../src/orchestrator/migrate.js'), import('../src/ui/summary.js')]);
    const result = await evacuate(
      {
        config: context.loaded.config,
        ...(this.flags.to !== undefined ? { to: this.flags.to } : {}),
        names: this.words,
        dryRun: this.actionFlags['dry-run'],
        listFile: context.paths.listFile,
      },
      services,
    );
    return { result, text: renderMigrate(result) };
  }
}
