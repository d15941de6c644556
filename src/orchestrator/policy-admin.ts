// `policy show|set|unset`: the per-guest policy read from and written to each guest's metadata, on every URI of
// URIS. show explains each effective value (the guest's metadata, the configuration, or the built-in default);
// set and unset change only the attributes named, keeping the others.
import type { Connection, GuestInfo, GuestRef } from '../connect/connection.js';
import type { GuestsConfig } from '../config/variables.js';
import { EXIT, OperationError, UsageError } from '../errors.js';
import { isVirError, VirErr } from '../libvirt/error.js';
import { nearestWord } from '../spelling.js';
import { storedPolicy } from './guest-policies.js';
import { ATTRIBUTE_NAMES, ATTRIBUTES, isAttribute, type Policy, type PolicyAttribute, type PolicyValues } from './policy/attributes.js';
import { effectivePolicy } from './policy/effective.js';
import { formatPolicy, mergePolicy, POLICY_NAMESPACE, POLICY_PREFIX } from './policy/metadata.js';
import type { PolicySetResult, PolicyShowResult } from './result.js';
import { errorText, type Services } from './services.js';

const XEN_DOM0 = '00000000-0000-0000-0000-000000000000';

async function withConnection<T>(services: Services, uri: string, readonly: boolean, work: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await services.connect(uri, { readonly });
  try {
    return await work(conn);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Every guest of every URI (or those named) with its effective policy and the source of each value. */
export async function showPolicies(config: GuestsConfig, names: string[], services: Services): Promise<PolicyShowResult> {
  const uris = await Promise.all(
    config.URIS.map(async (uri) => {
      try {
        return await withConnection(services, uri, true, async (conn) => {
          const all = (await conn.listGuests({ which: 'all' })).filter((g) => g.uuid !== XEN_DOM0);
          const wanted = names.length === 0 ? all : all.filter((g) => names.includes(g.name) || names.includes(g.uuid));
          const guests = await Promise.all(wanted.map((g) => guestRow(conn, g, config)));
          return { uri, reachable: true, guests };
        });
      } catch (err) {
        services.report({ kind: 'connect-failed', uri, error: errorText(err) });
        return { uri, reachable: false, error: errorText(err), guests: [] };
      }
    }),
  );
  const seen = new Set(uris.flatMap((u) => u.guests.flatMap((g) => [g.name, g.uuid])));
  const missing = names.filter((n) => !seen.has(n));
  const failed = missing.length > 0 || uris.some((u) => !u.reachable);
  return { command: 'policy show', exit: failed ? EXIT.FAILURE : EXIT.OK, namespace: POLICY_NAMESPACE, missing, uris };
}

async function guestRow(conn: Connection, g: GuestInfo, config: GuestsConfig): Promise<PolicyShowResult['uris'][number]['guests'][number]> {
  const { values, problems } = await storedPolicy(conn, g).catch((err: unknown) => ({ values: {}, problems: [errorText(err)] }));
  const eff = effectivePolicy(values, config);
  const all: Record<string, unknown> = { order: eff.order, ...eff.values };
  const policy = Object.fromEntries(
    ATTRIBUTE_NAMES.map((name) => [
      name,
      { value: all[name] as string | number | null, source: eff.sources[name], ...(eff.variables[name] ? { variable: eff.variables[name] } : {}) },
    ]),
  );
  return { name: g.name, uuid: g.uuid, state: g.state, tier: eff.order, policy, problems };
}

/** The guest named `name` (or UUID) on `uri`, or on the one URI of URIS that has it. */
async function findGuest(config: GuestsConfig, name: string, uri: string | undefined, services: Services): Promise<{ uri: string; guest: GuestRef }> {
  const candidates = uri !== undefined ? [uri] : config.URIS;
  const found = await Promise.all(
    candidates.map(async (u) => {
      try {
        return await withConnection(services, u, true, async (conn) => ({ uri: u, guest: await conn.lookup(name) }));
      } catch (err) {
        if (isVirError(err, VirErr.NO_DOMAIN)) return null;
        if (uri !== undefined) throw err;
        services.report({ kind: 'connect-failed', uri: u, error: errorText(err) });
        return null;
      }
    }),
  );
  const hits = found.filter((f): f is { uri: string; guest: GuestRef } => f !== null);
  if (hits.length === 0) {
    throw new OperationError('no-guest', `no guest "${name}" on ${uri ?? `any URI of URIS (${config.URIS.join(', ')})`}`, {
      hint: "'libvirt-guests policy show' lists the guests; --uri URI names another host",
    });
  }
  if (hits.length > 1) {
    throw new UsageError(`guest "${name}" is on more than one URI: ${hits.map((h) => h.uri).join(', ')}`, { hint: 'name the one with --uri URI' });
  }
  return hits[0]!;
}

/** Parses the raw values given to `policy set`; a bad one is a usage error naming the flag and what is allowed. */
export function policyChanges(raw: Partial<Record<PolicyAttribute, string>>): PolicyValues {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw) as [PolicyAttribute, string | undefined][]) {
    if (value === undefined) continue;
    const checked = ATTRIBUTES[name].check(value);
    if (!checked.ok) throw new UsageError(`--${name}=${value} is not valid`, { hint: `allowed: ${checked.allowed}` });
    out[name] = checked.value;
  }
  if (Object.keys(out).length === 0) {
    throw new UsageError('nothing to set', { hint: `give one or more of ${ATTRIBUTE_NAMES.map((n) => `--${n}`).join(', ')}` });
  }
  return out as PolicyValues;
}

/** The attributes named to `policy unset`; unknown names are a usage error with the nearest known one. */
export function policyAttributes(names: string[]): PolicyAttribute[] {
  return names.map((n) => {
    if (isAttribute(n)) return n;
    const near = nearestWord(n, ATTRIBUTE_NAMES);
    throw new UsageError(`unknown policy attribute "${n}"`, { hint: `${near ? `did you mean "${near}"? ` : ''}known: ${ATTRIBUTE_NAMES.join(', ')}` });
  });
}

export interface PolicyChange {
  name: string;
  uri?: string;
  /** attributes to set */
  set: PolicyValues;
  /** attributes to remove; `all` removes the whole policy */
  unset: PolicyAttribute[] | 'all';
  dryRun: boolean;
}

/** Changes a guest's stored policy: only the named attributes; values in its metadata that are not valid are dropped. */
export async function changePolicy(config: GuestsConfig, change: PolicyChange, services: Services): Promise<PolicySetResult> {
  const { uri, guest } = await findGuest(config, change.name, change.uri, services);
  return withConnection(services, uri, change.dryRun, async (conn) => {
    const stored = await storedPolicy(conn, guest);
    // writing without knowing what is stored would drop the attributes not named; only a whole unset needs nothing
    if (stored.unreadable !== undefined && change.unset !== 'all') {
      throw new OperationError('policy-unreadable', `cannot read the policy of guest "${guest.name}" on ${uri} (${stored.unreadable}); nothing was changed`, {
        hint: `try again once the guest's metadata can be read ('virsh metadata ${guest.name} --uri ${uri} ${POLICY_NAMESPACE}'); 'policy unset ${guest.name}' removes the whole policy without reading it`,
      });
    }
    for (const problem of stored.problems) services.report({ kind: 'policy-invalid', uri, guest, problems: [`${problem} (dropped now)`] });
    const removed: Partial<Record<PolicyAttribute, Policy[PolicyAttribute] | undefined>> = Object.fromEntries(
      (change.unset === 'all' ? ATTRIBUTE_NAMES : change.unset).map((n) => [n, undefined]),
    );
    const values = mergePolicy(stored.values, { ...removed, ...change.set });
    const xml = formatPolicy(values);
    if (!change.dryRun) await conn.setMetadata(guest, POLICY_NAMESPACE, POLICY_PREFIX, xml);
    return {
      command: change.unset === 'all' || change.unset.length > 0 ? 'policy unset' : 'policy set',
      exit: EXIT.OK,
      dryRun: change.dryRun,
      uri,
      name: guest.name,
      uuid: guest.uuid,
      before: stored.values,
      after: values,
      metadata: xml,
    };
  });
}
