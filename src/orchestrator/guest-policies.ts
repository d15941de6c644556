// Reading each guest's policy from its metadata over a connection. A policy that cannot be read or has bad values
// is reported with the guest's name and only what is wrong is left out: never fatal for the guest or the others.
import type { Connection, GuestRef } from '../connect/connection.js';
import type { GuestsConfig } from '../config/variables.js';
import { isVirError, VirErr } from '../libvirt/error.js';
import type { PolicyValues } from './policy/attributes.js';
import { effectivePolicy, type EffectivePolicy } from './policy/effective.js';
import { parsePolicy, POLICY_NAMESPACE } from './policy/metadata.js';
import { errorText, type Services } from './services.js';

export interface GuestPolicy extends EffectivePolicy {
  /** what the metadata set (valid values only) */
  own: PolicyValues;
  problems: string[];
}

/**
 * The policy values stored in the guest's metadata; problems are returned, not thrown. `unreadable` says why the
 * metadata could not be read at all (then `values` is empty only for want of knowing them).
 */
export async function storedPolicy(conn: Connection, guest: GuestRef): Promise<{ values: PolicyValues; problems: string[]; unreadable?: string }> {
  let xml: string | null;
  try {
    xml = await conn.getMetadata(guest, POLICY_NAMESPACE);
  } catch (err) {
    // a daemon without the metadata API has no policies: nothing to report
    if (isVirError(err, VirErr.NO_SUPPORT)) return { values: {}, problems: [] };
    if (isVirError(err, VirErr.NO_DOMAIN)) throw err;
    return { values: {}, problems: [`cannot read its policy metadata (${errorText(err)}); the configuration applies`], unreadable: errorText(err) };
  }
  return parsePolicy(xml);
}

/**
 * Each guest's effective policy, in the order given; problems reported as `policy-invalid`. A guest gone since it
 * was listed (a transient guest that shut down) gets the configuration's: what is then done to it finds it gone,
 * and the other guests keep their own policies.
 */
export async function guestPolicies(
  conn: Connection,
  uri: string,
  guests: readonly GuestRef[],
  config: GuestsConfig,
  services: Pick<Services, 'report'>,
): Promise<GuestPolicy[]> {
  return Promise.all(
    guests.map(async (guest) => {
      const { values, problems } = await storedPolicy(conn, guest).catch((err: unknown) => {
        if (isVirError(err, VirErr.NO_DOMAIN)) return { values: {}, problems: [] };
        throw err;
      });
      if (problems.length > 0) services.report({ kind: 'policy-invalid', uri, guest, problems });
      return { ...effectivePolicy(values, config), own: values, problems };
    }),
  );
}
