// A guestd instance's process guests, seen from outside the daemon: the runtime status it keeps for each running
// guest, and the guest's own monitor (what the guest holds, independently of what the daemon says); a guest defined
// and started with real virsh.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MonitorClient } from '../../src/driver/process/monitor-client.js';
import type { RuntimeStatus } from '../../src/driver/process/store.js';
import { waitFor, type GuestdInstance } from './guestd.js';
import { guestXml, virsh, type RunResult } from './virsh.js';

/** the stdout of a command that must succeed */
export async function ok(run: Promise<RunResult>, what: string): Promise<string> {
  const r = await run;
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

export const statusFile = (gd: GuestdInstance, name: string): string =>
  path.join(gd.sockDir, 'process', 'domains', `${name}.json`);

export const runtimeStatus = (gd: GuestdInstance, name: string): RuntimeStatus =>
  JSON.parse(readFileSync(statusFile(gd, name), 'utf8')) as RuntimeStatus;

/** ask a running guest through its monitor */
export async function askGuest<T>(gd: GuestdInstance, name: string, ask: (m: MonitorClient) => Promise<T>): Promise<T> {
  const monitor = await MonitorClient.connect(runtimeStatus(gd, name).monitor, 10_000);
  try {
    return await ask(monitor);
  } finally {
    monitor.close();
  }
}

/** what a running guest holds now: its memory counter and sha256, its clock */
export const guestState = (gd: GuestdInstance, name: string): Promise<{ counter: number; checksum: string; timeNs: bigint }> =>
  askGuest(gd, name, async (m) => {
    const s = await m.call('query-state');
    return { counter: s.counter, checksum: s.checksum, timeNs: BigInt(s.guestTimeNs) };
  });

/** define `name` on `gd` with real virsh (its XML in gd.dir) and start it */
export async function defineAndStart(gd: GuestdInstance, name: string, behavior: Record<string, string | number> = {}, mib = 4): Promise<void> {
  const file = path.join(gd.dir, `${name}.xml`);
  writeFileSync(file, guestXml(name, behavior, mib));
  await ok(virsh(gd.uri, 'define', file), 'define');
  await ok(virsh(gd.uri, 'start', name), 'start');
}

/** wait until the guest's memory counter passes `from` (by default, where it is now): it runs */
export async function waitForTicks(gd: GuestdInstance, name: string, what: string, from?: number): Promise<void> {
  const since = from ?? (await guestState(gd, name)).counter;
  await waitFor(what, async () => (await guestState(gd, name)).counter > since);
}
