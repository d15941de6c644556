// A guest's effective policy: each attribute from its metadata when set there, else from the configuration
// (ON_SHUTDOWN, SHUTDOWN_TIMEOUT, ON_BOOT), else a fixed default, with where each value came from.
import type { GuestsConfig } from '../../config/variables.js';
import { ATTRIBUTE_NAMES, ATTRIBUTES, type Policy, type PolicyAttribute, type PolicySource, type PolicyValues } from './attributes.js';

export interface EffectivePolicy {
  /** the tier; null: the default tier (no `order` in the metadata) */
  order: number | null;
  values: Omit<Policy, 'order'>;
  sources: Record<PolicyAttribute, PolicySource>;
  /** the configuration variable behind each value that came from the configuration */
  variables: Partial<Record<PolicyAttribute, keyof GuestsConfig>>;
}

export function effectivePolicy(values: PolicyValues, config: GuestsConfig): EffectivePolicy {
  const out: Record<string, unknown> = {};
  const sources = {} as Record<PolicyAttribute, PolicySource>;
  const variables: EffectivePolicy['variables'] = {};
  for (const name of ATTRIBUTE_NAMES) {
    if (values[name] !== undefined) {
      out[name] = values[name];
      sources[name] = 'metadata';
      continue;
    }
    const fb = ATTRIBUTES[name].fallback(config);
    out[name] = fb.value;
    sources[name] = fb.source;
    if (fb.variable) variables[name] = fb.variable;
  }
  const { order: _order, ...rest } = out as unknown as Policy;
  return { order: values.order ?? null, values: rest, sources, variables };
}
