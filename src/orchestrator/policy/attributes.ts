// The per-guest policy's attributes: one table gives each attribute its values, its check, and where its default
// comes from (a libvirt-guests variable, or a fixed value). The metadata parser, `policy set`, `policy show` and the
// README all read this table; a new action (e.g. migrate) is one more line in SHUTDOWN_ACTIONS.
import type { GuestsConfig } from '../../config/variables.js';

/**
 * What stop does to a guest, by its `on-shutdown`: the one table of actions (a new one, e.g. migrate, is a line here
 * and its runner in stop.ts). `acts: false` leaves the guest alone: neither touched nor recorded in the list file.
 */
export const SHUTDOWN_ACTIONS = {
  suspend: { acts: true, describe: 'managed save; restored at start' },
  shutdown: { acts: true, describe: 'ACPI shutdown within shutdown-timeout' },
  destroy: { acts: true, describe: 'powered off at once' },
  migrate: { acts: true, describe: 'live migration to MIGRATE_URI; MIGRATE_FALLBACK when it cannot go' },
  ignore: { acts: false, describe: 'left alone, not recorded for start' },
} as const;
export type ShutdownAction = keyof typeof SHUTDOWN_ACTIONS;
/** the actions that touch the guest */
export type ActingShutdownAction = { [K in ShutdownAction]: (typeof SHUTDOWN_ACTIONS)[K]['acts'] extends true ? K : never }[ShutdownAction];

export function acts(action: ShutdownAction): action is ActingShutdownAction {
  return SHUTDOWN_ACTIONS[action].acts;
}

export const BOOT_ACTIONS = ['start', 'ignore'] as const;
export type BootAction = (typeof BOOT_ACTIONS)[number];

/** When the next tier may start: at once (none), once this guest runs, once its agent answers. */
export const READINESS = ['none', 'running', 'agent'] as const;
export type Readiness = (typeof READINESS)[number];

export interface Policy {
  order: number;
  'on-shutdown': ShutdownAction;
  'shutdown-timeout': number;
  'on-boot': BootAction;
  'start-delay': number;
  ready: Readiness;
  'ready-timeout': number;
}
export type PolicyAttribute = keyof Policy;
/** the attributes a guest's metadata sets (each one optional) */
export type PolicyValues = Partial<Policy>;

/** where an effective value came from */
export type PolicySource = 'metadata' | 'config' | 'default';

type Check<T> = { ok: true; value: T } | { ok: false; allowed: string };

const MAX_SECONDS = 86_400 * 7;
const MAX_ORDER = 1_000_000;

function integer(min: number, max: number, what: string): (raw: string) => Check<number> {
  return (raw) => {
    const n = Number(raw);
    if (/^-?[0-9]+$/.test(raw) && Number.isSafeInteger(n) && n >= min && n <= max) return { ok: true, value: n };
    return { ok: false, allowed: what };
  };
}

function oneOf<T extends string>(values: readonly T[]): (raw: string) => Check<T> {
  return (raw) => ((values as readonly string[]).includes(raw) ? { ok: true, value: raw as T } : { ok: false, allowed: values.join(', ') });
}

export interface AttributeSpec<K extends PolicyAttribute = PolicyAttribute> {
  name: K;
  summary: string;
  check(raw: string): Check<Policy[K]>;
  /** the value without metadata: a configuration variable's, or a fixed default */
  fallback(config: GuestsConfig): { value: Policy[K]; source: 'config' | 'default'; variable?: keyof GuestsConfig };
}

const seconds = integer(0, MAX_SECONDS, `whole seconds, 0 to ${MAX_SECONDS}`);

export const ATTRIBUTES: { [K in PolicyAttribute]: AttributeSpec<K> } = {
  order: {
    name: 'order',
    summary: 'tier: start goes up the tiers, stop goes down; no order = the default tier (last at start, first at stop)',
    check: integer(-MAX_ORDER, MAX_ORDER, `a whole number from ${-MAX_ORDER} to ${MAX_ORDER}`),
    // never used: a guest without order is in the default tier (effective.ts gives it order null)
    fallback: () => ({ value: 0, source: 'default' }),
  },
  'on-shutdown': {
    name: 'on-shutdown',
    summary: `what stop does to the guest: ${Object.entries(SHUTDOWN_ACTIONS).map(([k, v]) => `${k} (${v.describe})`).join(', ')}`,
    check: oneOf(Object.keys(SHUTDOWN_ACTIONS) as ShutdownAction[]),
    fallback: (c) => ({ value: c.ON_SHUTDOWN, source: 'config', variable: 'ON_SHUTDOWN' }),
  },
  'shutdown-timeout': {
    name: 'shutdown-timeout',
    summary: 'seconds a shutdown may take (0: no limit)',
    check: seconds,
    fallback: (c) => ({ value: c.SHUTDOWN_TIMEOUT, source: 'config', variable: 'SHUTDOWN_TIMEOUT' }),
  },
  'on-boot': {
    name: 'on-boot',
    summary: 'whether start brings the guest back (ON_BOOT=ignore still starts nothing)',
    check: oneOf(BOOT_ACTIONS),
    fallback: (c) => ({ value: c.ON_BOOT, source: 'config', variable: 'ON_BOOT' }),
  },
  'start-delay': {
    name: 'start-delay',
    summary: 'seconds after this guest is ready before the next tier starts',
    check: seconds,
    fallback: () => ({ value: 0, source: 'default' }),
  },
  ready: {
    name: 'ready',
    summary: 'when the next tier may start: none (at once), running, agent (its guest agent answers)',
    check: oneOf(READINESS),
    fallback: () => ({ value: 'running', source: 'default' }),
  },
  'ready-timeout': {
    name: 'ready-timeout',
    summary: 'seconds to wait for readiness before going on (reported, not fatal)',
    check: integer(1, MAX_SECONDS, `whole seconds, 1 to ${MAX_SECONDS}`),
    fallback: () => ({ value: 120, source: 'default' }),
  },
};

export const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTES) as PolicyAttribute[];

export function isAttribute(name: string): name is PolicyAttribute {
  return Object.hasOwn(ATTRIBUTES, name);
}
