import { GuestsCommand, type CommandContext, type Outcome } from '../src/cli/base-command.js';
import { statusOutcome } from '../src/cli/context.js';
import { noActionFlags } from '../src/cli/parse-error.js';
import { EXIT, type ExitCode } from '../src/errors.js';

const WHY = 'it reads the list and lock files only, so it connects to nothing, changes nothing and has no progress to show';

export default class Status extends GuestsCommand {
  static override summary = 'Tell whether guests were saved and not yet restored (exit 3), or the service is started (exit 0).';
  static override description = `Prints "stopped, with saved guests" (exit 3) when the list file exists, "started" (exit 0) when the lock file exists, else "stopped, with no saved guests" (exit 3), as the original does. When that cannot be told (wrong usage, an unusable configuration) it exits 4, as LSB's status codes say. It ${noActionFlags(WHY)}.`;
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  static override whyNoActionFlags = WHY;

  protected execute(context: CommandContext): Promise<Outcome> {
    return statusOutcome(context);
  }

  /** LSB: a status action exits 0-4 only; whatever went wrong, the status is unknown */
  protected override exitOf(): ExitCode {
    return EXIT.STATUS_UNKNOWN;
  }
}
