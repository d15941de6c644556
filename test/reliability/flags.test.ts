// Random flags on every procedure that takes them, against a real guestd with process guests: a call with a bit its
// procedure does not understand is refused with libvirt's INVALID_ARG naming exactly those bits, and changes nothing;
// a call with understood bits only is never refused for its flags, and never fails inside the daemon (an internal or
// RPC error). The guests ignore the power button, so every change a call makes is complete when it returns.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SUPPORTED_FLAGS, type FlaggedProc } from '../../src/daemon/flags.js';
import type { RemoteClient } from '../../src/remote/client.js';
import { isVirError, LibvirtError, VirErr } from '../../src/libvirt/error.js';
import { MetadataType, ModificationImpact } from '../../src/remote/enums.js';
import { PROC } from '../../src/remote/protocol.js';
import type { RemoteDomain } from '../../src/remote/types.js';
import { callFlagged, FLAGGED_PROCS, remoteClient } from '../helpers/flagged-calls.js';
import { cleanupAllGuestd, startGuestd } from '../helpers/guestd.js';
import { log, random, report, trials, type Random } from '../helpers/reliability.js';
import { guestXml } from '../helpers/virsh.js';

const SUITE = 'flags';
const POOL = ['fz-a', 'fz-b'];

after(cleanupAllGuestd);

/** a random subset of the bits of `mask` */
function subset(rnd: Random, mask: number): number {
  let out = 0;
  for (let bit = 0; bit < 32; bit++) if (mask & (1 << bit) && rnd.next() < 0.5) out |= 1 << bit;
  return out >>> 0;
}

/** every domain with what a call could change: state, managed save image, titles */
async function snapshot(c: RemoteClient): Promise<string> {
  const { domains } = await c.call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags: 0 });
  const rows = await Promise.all(
    domains.map(async (dom) => {
      const { state, reason } = await c.call(PROC.DOMAIN_GET_STATE, { dom, flags: 0 });
      const saved = (await c.call(PROC.DOMAIN_HAS_MANAGED_SAVE_IMAGE, { dom, flags: 0 })).result;
      const title = (flags: number) =>
        c.call(PROC.DOMAIN_GET_METADATA, { dom, type: MetadataType.TITLE, uri: null, flags }).then(
          (r) => r.metadata,
          (err: LibvirtError) => `(${err.virCode})`,
        );
      const titles = [await title(ModificationImpact.CONFIG), state === 1 ? await title(ModificationImpact.LIVE) : '-'];
      return `${dom.name}:${dom.id}:${state}/${reason}:${saved}:${titles.join('/')}`;
    }),
  );
  return rows.sort().join(' ');
}

test("random flags: unknown bits refused in libvirt's words and nothing done; known bits never refused for them", async () => {
  const rnd = random(SUITE);
  const count = trials(500, 10_000);
  const gd = await startGuestd();
  const c = await remoteClient(gd.rwSocket);
  const target = async (name: string): Promise<RemoteDomain> => {
    try {
      return (await c.call(PROC.DOMAIN_LOOKUP_BY_NAME, { name })).dom;
    } catch {
      const xml = guestXml(name, { 'honor-shutdown': 'no' }, 1);
      return (await c.call(PROC.DOMAIN_DEFINE_XML, { xml })).dom;
    }
  };
  const losses: string[] = [];
  const outcomes: Record<string, number> = {};
  let refused = 0;
  let accepted = 0;
  const started = Date.now();
  for (let i = 0; i < count && losses.length < 10; i++) {
    const proc: FlaggedProc = rnd.pick(FLAGGED_PROCS);
    const supported = SUPPORTED_FLAGS[proc];
    const foreign = rnd.next() < 0.5 ? subset(rnd, ~supported >>> 0) : 0;
    const flags = (subset(rnd, supported) | foreign) >>> 0;
    const name = rnd.pick(POOL);
    const story = `trial ${i}: ${proc} flags 0x${flags.toString(16)} on ${name}`;
    log(SUITE, story);
    const dom = await target(name);
    const client = proc === 'CONNECT_OPEN' ? await remoteClient(gd.rwSocket, false) : c;
    const before = foreign ? await snapshot(c) : '';
    let error: unknown = null;
    try {
      await callFlagged(client, proc, dom, flags);
    } catch (err) {
      error = err;
    }
    if (client !== c) await client.rpc.close();
    const code = error instanceof LibvirtError ? error.virCode : error ? String(error) : 0;
    outcomes[`${code}`] = (outcomes[`${code}`] ?? 0) + 1;
    const flagRefusal = error instanceof LibvirtError && /^unsupported flags/.test(error.message);
    if (foreign) {
      refused++;
      const expected = new RegExp(`^unsupported flags \\(0x${foreign.toString(16)}\\) in function process[A-Z]\\w+$`);
      if (!isVirError(error, VirErr.INVALID_ARG) || !expected.test(error.message))
        losses.push(`${story}: expected the refusal of 0x${foreign.toString(16)}, got ${String(error)}`);
      const after = await snapshot(c);
      if (after !== before) losses.push(`${story}: refused, yet the domains changed: ${before} → ${after}`);
    } else {
      accepted++;
      if (flagRefusal) losses.push(`${story}: understood flags refused: ${String(error)}`);
      const internal =
        error instanceof LibvirtError ? error.virCode === VirErr.INTERNAL_ERROR || error.virCode === VirErr.RPC : error !== null;
      if (internal) losses.push(`${story}: failed inside the daemon: ${String(error)}`);
    }
    if (gd.child.exitCode !== null) losses.push(`${story}: guestd exited (${gd.child.exitCode})`);
  }
  const seconds = (Date.now() - started) / 1000;
  await c.rpc.close();
  report(SUITE, {
    seed: rnd.seed,
    trials: refused + accepted,
    refused,
    accepted,
    outcomes: JSON.stringify(outcomes),
    losses: losses.length,
    seconds: Math.round(seconds),
    callsPerSecond: Math.round((refused + accepted) / seconds),
  });
  assert.deepEqual(losses, []);
  assert.doesNotMatch(gd.stderr(), /unexpectedly/, 'no procedure failed unexpectedly in the daemon');
});
