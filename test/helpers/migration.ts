// Migrations between two real guestd instances, seen from outside: a guest started to migrate, what the source
// logged at its pause, and a migration driven step by step with the native RPC client, as virsh without --p2p does.
import assert from 'node:assert/strict';
import { openConnection } from '../../src/connect/index.js';
import type { NativeConnection } from '../../src/connect/native.js';
import { MigrateParam } from '../../src/remote/enums.js';
import { PROC } from '../../src/remote/protocol.js';
import { tp } from '../../src/remote/types.js';
import type { GuestdInstance } from './guestd.js';
import { defineAndStart, ok, waitForTicks } from './guests.js';
import { virsh } from './virsh.js';

/** define and start `name` on `gd`, and let it run a while: its memory is not what a fresh boot holds */
export async function startGuestOn(gd: GuestdInstance, name: string, behavior: Record<string, string | number> = {}, mib = 16): Promise<void> {
  await defineAndStart(gd, name, behavior, mib);
  await waitForTicks(gd, name, `${name} running a while`, 2);
}

/** what the source daemon logged of the guest at its pause for the last pass */
export function pausedState(gd: GuestdInstance, name: string): { counter: number; checksum: string } {
  const lines = [...gd.stderr().matchAll(new RegExp(`domain '${name}': sent .* paused at counter (\\d+), memory sha256 ([0-9a-f]{64})`, 'g'))];
  const last = lines.at(-1);
  assert.ok(last, `the source logged no pause of ${name}:\n${gd.stderr()}`);
  return { counter: Number(last[1]), checksum: last[2]! };
}

export const domstate = async (gd: GuestdInstance, name: string): Promise<string> =>
  (await ok(virsh(gd.uri, 'domstate', '--reason', name), 'domstate')).trim();

/**
 * A migration of `name` from `source` to `destination` driven step by step, as virsh without --p2p drives it: begin
 * and prepare done (on `dst`, the connection the destination's close callbacks belong to), `perform` starts the
 * stream; then FINISH3 and CONFIRM3 are the caller's.
 */
export async function migrationSteps(source: GuestdInstance, destination: GuestdInstance, name: string, flags: number) {
  const [src, dst] = (await Promise.all([
    openConnection(source.uri, { backend: 'native' }),
    openConnection(destination.uri, { backend: 'native' }),
  ])) as [NativeConnection, NativeConnection];
  const { dom } = await src.remote.call(PROC.DOMAIN_LOOKUP_BY_NAME, { name });
  const begun = await src.remote.call(PROC.DOMAIN_MIGRATE_BEGIN3_PARAMS, { dom, params: [], flags });
  const prepared = await dst.remote.call(PROC.DOMAIN_MIGRATE_PREPARE3_PARAMS, {
    params: [tp.string(MigrateParam.DEST_XML, begun.xml)],
    cookie_in: begun.cookie_out,
    flags,
  });
  return {
    dom,
    perform: () =>
      src.remote.call(PROC.DOMAIN_MIGRATE_PERFORM3_PARAMS, {
        dom,
        dconnuri: null,
        params: [tp.string(MigrateParam.URI, prepared.uri_out!)],
        cookie_in: prepared.cookie_out,
        flags,
      }),
    finish: (cookie: Buffer, cancelled: boolean) =>
      dst.remote.call(PROC.DOMAIN_MIGRATE_FINISH3_PARAMS, { params: [], cookie_in: cookie, flags, cancelled: cancelled ? 1 : 0 }),
    confirm: (cookie: Buffer, cancelled: boolean) =>
      src.remote.call(PROC.DOMAIN_MIGRATE_CONFIRM3_PARAMS, { dom, params: [], cookie_in: cookie, flags, cancelled: cancelled ? 1 : 0 }),
    src,
    dst,
    close: () => Promise.all([src.close(), dst.close()]),
  };
}
