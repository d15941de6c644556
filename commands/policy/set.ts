import { Args, Flags } from '@oclif/core';
import type { CommandContext, Outcome } from '../../src/cli/base-command.js';
import { GuestActionCommand } from '../../src/cli/guest-command.js';
import { ATTRIBUTES, ATTRIBUTE_NAMES, type PolicyAttribute } from '../../src/orchestrator/policy/attributes.js';
import type { Services } from '../../src/orchestrator/services.js';

/** one flag per policy attribute, from the attributes' table */
const attributeFlags = Object.fromEntries(
  ATTRIBUTE_NAMES.map((name) => [name, Flags.string({ description: ATTRIBUTES[name].summary, helpValue: name === 'order' ? 'N' : 'VALUE' })]),
) as Record<PolicyAttribute, ReturnType<typeof Flags.string>>;

export default class PolicySet extends GuestActionCommand<typeof PolicySet> {
  static override summary = "Set attributes of a guest's policy in its metadata; the others are kept.";
  static override description =
    "Stores <policy> in the guest's metadata (namespace https://libvirt-guests-ts.invalid/policy/1, prefix lgt), in its persistent config and, while it runs, its live definition. The guest is looked for on every URI of URIS unless --uri names one. --dry-run prints what would be stored.";
  static override examples = [
    '<%= config.bin %> policy set db1 --order 1 --ready agent --start-delay 10',
    '<%= config.bin %> policy set web1 --order 2 --on-shutdown shutdown --shutdown-timeout 60 --uri qemu:///system',
  ];
  static override args = { name: Args.string({ description: 'the guest (name or UUID)', required: true }) };
  static override flags = {
    ...attributeFlags,
    uri: Flags.string({ description: 'the URI the guest is on (default: the one URI of URIS that has it)', helpValue: 'URI' }),
  };

  protected async act(context: CommandContext, services: Services): Promise<Outcome> {
    const [{ changePolicy, policyChanges }, { renderPolicySet }] = await Promise.all([import('../../src/orchestrator/policy-admin.js'), import('../../src/ui/policy.js')]);
    const { uri } = this.flags;
    const set = policyChanges(Object.fromEntries(ATTRIBUTE_NAMES.map((n) => [n, this.flags[n]])));
    const result = await changePolicy(
      context.loaded.config,
      { name: this.words[0]!, ...(uri !== undefined ? { uri } : {}), set, unset: [], dryRun: this.actionFlags['dry-run'] },
      services,
    );
    return { result, text: renderPolicySet(result) };
  }
}
