import { Args, Flags } from '@oclif/core';
import type { CommandContext, Outcome } from '../../src/cli/base-command.js';
import { GuestActionCommand } from '../../src/cli/guest-command.js';
import { ATTRIBUTE_NAMES } from '../../src/orchestrator/policy/attributes.js';
import type { Services } from '../../src/orchestrator/services.js';

export default class PolicyUnset extends GuestActionCommand<typeof PolicyUnset> {
  static override summary = "Remove attributes of a guest's policy (all of them when none is named).";
  static override description =
    'Removes the named attributes from the guest\'s <policy> metadata; without attributes the whole element goes, and the configuration applies to the guest again.';
  static override examples = ['<%= config.bin %> policy unset web1 shutdown-timeout', '<%= config.bin %> policy unset web1'];
  static override args = {
    name: Args.string({ description: 'the guest (name or UUID)', required: true }),
    attribute: Args.string({ description: `attributes to remove (${ATTRIBUTE_NAMES.join(', ')})` }),
  };
  static override strict = false;
  static override flags = {
    uri: Flags.string({ description: 'the URI the guest is on (default: the one URI of URIS that has it)', helpValue: 'URI' }),
  };

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ changePolicy, policyAttributes }, { renderPolicySet }] = await Promise.all([import('../../src/orchestrator/policy-admin.js'), import('../../src/ui/policy.js')]);
    const [name, ...attributes] = this.words;
    const unset = attributes.length === 0 ? ('all' as const) : policyAttributes(attributes);
    const { uri } = this.flags;
    const result = await changePolicy(
      context.loaded.config,
      { name: name!, ...(uri !== undefined ? { uri } : {}), set: {}, unset, dryRun: this.actionFlags['dry-run'] },
      services,
    );
    return { result, text: renderPolicySet(result) };
  }
}
