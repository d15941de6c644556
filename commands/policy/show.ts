import { Args } from '@oclif/core';
import type { CommandContext, Outcome } from '../../src/cli/base-command.js';
import { GuestActionCommand } from '../../src/cli/guest-command.js';
import type { Services } from '../../src/orchestrator/services.js';

export default class PolicyShow extends GuestActionCommand<typeof PolicyShow> {
  static override summary = 'Show the per-guest policy of every guest of every URI: each effective value and where it came from.';
  static override description =
    "Reads each guest's policy from its metadata (<policy> in namespace https://libvirt-guests-ts.invalid/policy/1) and shows the effective value of every attribute: from the metadata, from the configuration (ON_SHUTDOWN, SHUTDOWN_TIMEOUT, ON_BOOT), or the built-in default. Bad values in the metadata are listed; they are ignored. Read-only. Exit 1 when a URI cannot be reached or a named guest is on none.";
  static override examples = ['<%= config.bin %> policy show', '<%= config.bin %> policy show db1 web1 --json'];
  static override args = { name: Args.string({ description: 'guest names or UUIDs (default: every guest)', required: false }) };
  static override strict = false;

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ showPolicies }, { renderPolicyShow }] = await Promise.all([import('../../src/orchestrator/policy-admin.js'), import('../../src/ui/policy.js')]);
    const result = await showPolicies(context.loaded.config, this.words, services);
    return { result, text: renderPolicyShow(result) };
  }
}
