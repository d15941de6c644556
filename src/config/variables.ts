// The configuration variables of libvirt-guests: names, upstream defaults, and how each value is checked.
// One table drives validation, defaults, the unknown-name suggestions and the test of the shipped sysconfig file.
import { nearestWord } from '../spelling.js';
import { excerpt } from './excerpt.js';

type OnBoot = 'start' | 'ignore';
export type OnShutdown = 'suspend' | 'shutdown' | 'migrate';
/** what is done to a guest on this host (and to one that cannot be migrated) */
export type LocalAction = Exclude<OnShutdown, 'migrate'>;
type PersistentOnly = 'default' | 'true' | 'false';

export interface GuestsConfig {
  URIS: string[];
  ON_BOOT: OnBoot;
  START_DELAY: number;
  ON_SHUTDOWN: OnShutdown;
  PARALLEL_SHUTDOWN: number;
  SHUTDOWN_TIMEOUT: number;
  BYPASS_CACHE: boolean;
  SYNC_TIME: boolean;
  PERSISTENT_ONLY: PersistentOnly;
  // ours (not in the original): see sysconfig/libvirt-guests and the README
  PARALLEL_SUSPEND: number;
  PARALLEL_START: number;
  FALLBACK: boolean;
  STOP_DEADLINE: number;
  CONNECT_RETRIES: number;
  RETRIES_SLEEP: number;
  LOCK_TIMEOUT: number;
  MIGRATE_URI: string;
  PARALLEL_MIGRATE: number;
  MIGRATE_TIMEOUT: number;
  MIGRATE_LIVE: boolean;
  MIGRATE_FALLBACK: LocalAction;
  MIGRATE_RETURN: boolean;
  MIGRATE_RETURN_URI: string;
}

/** Result of checking one raw value: the typed value, or what is allowed. */
type Check<T> = { ok: true; value: T } | { ok: false; allowed: string };

export interface VariableSpec<K extends keyof GuestsConfig = keyof GuestsConfig> {
  name: K;
  /** the default, written as it would appear in the file */
  defaultText: string;
  check(raw: string): Check<GuestsConfig[K]>;
}

const INTEGER = /^[0-9]+$/;
const SIGNED_INTEGER = /^-?[0-9]+$/;

function oneOf<T extends string>(...values: T[]): (raw: string) => Check<T> {
  return (raw) =>
    (values as string[]).includes(raw)
      ? { ok: true, value: raw as T }
      : { ok: false, allowed: values.map((v) => `"${v}"`).join(' or ') };
}

function nonNegativeInteger(raw: string): Check<number> {
  if (INTEGER.test(raw) && Number.isSafeInteger(Number(raw))) return { ok: true, value: Number(raw) };
  return { ok: false, allowed: 'a whole number, 0 or greater' };
}

function positiveInteger(raw: string): Check<number> {
  if (INTEGER.test(raw) && Number.isSafeInteger(Number(raw)) && Number(raw) > 0) return { ok: true, value: Number(raw) };
  return { ok: false, allowed: 'a whole number, 1 or greater' };
}

/** As in the original: 0 is off, any other integer is on. */
function integerSwitch(raw: string): Check<boolean> {
  if (SIGNED_INTEGER.test(raw)) return { ok: true, value: Number(raw) !== 0 };
  return { ok: false, allowed: 'a whole number: 0 (off) or 1 (on)' };
}

function uriList(raw: string): Check<string[]> {
  const uris = raw.split(/\s+/).filter((u) => u !== '');
  const bad = uris.find((u) => u !== 'default' && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(u));
  if (bad !== undefined) {
    return { ok: false, allowed: `space-separated libvirt URIs such as "qemu:///system" or "default" ("${excerpt(bad)}" is not one)` };
  }
  return { ok: true, value: uris };
}

/** one libvirt URI, or nothing */
function optionalUri(raw: string): Check<string> {
  if (raw === '' || /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S*$/.test(raw)) return { ok: true, value: raw };
  return { ok: false, allowed: `one libvirt URI such as "qemu+tls://peer/system", or nothing ("${excerpt(raw)}" is not one)` };
}

function spec<K extends keyof GuestsConfig>(name: K, defaultText: string, check: (raw: string) => Check<GuestsConfig[K]>): VariableSpec<K> {
  return { name, defaultText, check };
}

export const VARIABLES: readonly VariableSpec[] = [
  spec('URIS', 'default', uriList),
  spec('ON_BOOT', 'start', oneOf<OnBoot>('start', 'ignore')),
  spec('START_DELAY', '0', nonNegativeInteger),
  spec('ON_SHUTDOWN', 'suspend', oneOf<OnShutdown>('suspend', 'shutdown', 'migrate')),
  spec('PARALLEL_SHUTDOWN', '0', nonNegativeInteger),
  spec('SHUTDOWN_TIMEOUT', '300', nonNegativeInteger),
  spec('BYPASS_CACHE', '0', integerSwitch),
  spec('SYNC_TIME', '0', integerSwitch),
  spec('PERSISTENT_ONLY', 'default', oneOf<PersistentOnly>('default', 'true', 'false')),
  spec('PARALLEL_SUSPEND', '4', positiveInteger),
  spec('PARALLEL_START', '4', positiveInteger),
  spec('FALLBACK', '0', integerSwitch),
  spec('STOP_DEADLINE', '0', nonNegativeInteger),
  spec('CONNECT_RETRIES', '10', nonNegativeInteger),
  spec('RETRIES_SLEEP', '1', nonNegativeInteger),
  spec('LOCK_TIMEOUT', '300', nonNegativeInteger),
  spec('MIGRATE_URI', '', optionalUri),
  spec('PARALLEL_MIGRATE', '2', positiveInteger),
  spec('MIGRATE_TIMEOUT', '300', nonNegativeInteger),
  spec('MIGRATE_LIVE', '1', integerSwitch),
  spec('MIGRATE_FALLBACK', 'suspend', oneOf<LocalAction>('suspend', 'shutdown')),
  spec('MIGRATE_RETURN', '1', integerSwitch),
  spec('MIGRATE_RETURN_URI', '', optionalUri),
] as VariableSpec[];

export function defaultConfig(): GuestsConfig {
  const out: Record<string, unknown> = {};
  for (const v of VARIABLES) {
    const checked = v.check(v.defaultText);
    if (!checked.ok) throw new Error(`default of ${v.name} does not pass its own check`);
    out[v.name] = checked.value;
  }
  return out as unknown as GuestsConfig;
}

/** The known name closest to `name` (edit distance ≤ 3), for "did you mean" warnings. */
export function nearestVariable(name: string): string | undefined {
  return nearestWord(name.toUpperCase(), VARIABLES.map((v) => v.name), 3);
}
