import { GuestsCommand, type CommandContext, type Outcome } from '../src/cli/base-command.js';
import { noActionFlags } from '../src/cli/parse-error.js';
import { checkConfig } from '../src/orchestrator/config-check.js';
import { renderConfigCheck } from '../src/ui/config-check.js';

const WHY = 'it reads the configuration only, so it connects to nothing, changes nothing and has no progress to show';

export default class Reload extends GuestsCommand {
  static override summary = 'Validate the configuration file and show the settings in effect (it is read on every run).';
  static override description = `The configuration is read on every invocation, so there is nothing to reload. This validates it now and reports: exit 0 when valid, 6 with file:line when not. Every setting is shown with where its value comes from: the file and line, the distribution's default (Debian's on Debian and its derivatives), or the built-in default. It ${noActionFlags(WHY)}.`;
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --config /etc/default/libvirt-guests'];
  static override whyNoActionFlags = WHY;

  protected async execute({ loaded, paths }: CommandContext): Promise<Outcome> {
    const result = checkConfig(this.id === 'force-reload' ? 'force-reload' : 'reload', loaded, paths);
    return { result, text: renderConfigCheck(result) };
  }
}
