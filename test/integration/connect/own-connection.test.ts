// Regression: a start (a restore, which takes as long as a save) runs on a connection of its own, as saves and
// migrations do. A daemon that has max_client_requests calls of one connection running stops reading that
// connection; with guestd's limit at 1, a long call on the shared connection then holds back every other call on it.
// Here the shared connection is held by a slow managed save made on it directly: our start still completes first,
// since it does not wait behind it (before the fix it was answered only after the save).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { openConnection } from '../../../src/connect/index.js';
import type { NativeConnection } from '../../../src/connect/native.js';
import { PROC } from '../../../src/remote/protocol.js';
import { cleanupAllGuestd, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { ok } from '../../helpers/guests.js';
import { guestXmlFile, virsh } from '../../helpers/virsh.js';

let gd: GuestdInstance;
const SLOW = `slow-${process.pid}`;
const OFF = `off-${process.pid}`;

before(async () => {
  gd = await startGuestd({ config: 'max_client_requests = 1' });
  // 16 MiB at 2 MiB/s: a save of ~8 s, far longer than a start of a 4 MiB guest
  for (const [name, behavior, mib] of [
    [SLOW, { 'shutdown-seconds': 0, agent: 'no', 'save-mib-per-second': 2 }, 16],
    [OFF, { 'shutdown-seconds': 0, agent: 'no' }, 4],
  ] as const) {
    await ok(virsh(gd.uri, 'define', guestXmlFile(gd.dir, name, behavior, mib)), `define ${name}`);
  }
  await ok(virsh(gd.uri, 'start', SLOW), 'start the slow saver');
});
after(cleanupAllGuestd);

it('a start is not held behind a long call on the shared connection (max_client_requests = 1)', async () => {
  const conn = (await openConnection(gd.uri, { backend: 'native' })) as NativeConnection;
  try {
    const order: string[] = [];
    const slow = await conn.lookup(SLOW);
    // the long call, on the shared connection itself (the save API would take a connection of its own)
    const save = conn.remote
      .call(PROC.DOMAIN_MANAGED_SAVE, { dom: { name: slow.name, uuid: slow.uuid, id: slow.id }, flags: 0 }, { timeoutMs: 0 })
      .then(() => order.push('save'));
    // the save has begun (its guest is no longer simply running) before the start is asked for
    const watcher = (await openConnection(gd.uri, { backend: 'native' })) as NativeConnection;
    try {
      await waitFor('the save begun', async () => (await watcher.jobInfo(slow)).type !== 'none', 15_000, 20);
    } finally {
      await watcher.close();
    }
    const started = conn.start(await lookupBeside(gd.uri, OFF)).then(() => order.push('start'));
    await Promise.all([save, started]);
    assert.deepEqual(order, ['start', 'save'], 'the start waited for the save on the shared connection');
    assert.equal((await virsh(gd.uri, 'domstate', OFF)).stdout.trim(), 'running');
    assert.equal((await virsh(gd.uri, 'domstate', SLOW)).stdout.trim(), 'shut off');
  } finally {
    await conn.close();
  }
});

/** the guest's reference, looked up on another connection (the shared one is busy) */
async function lookupBeside(uri: string, name: string) {
  const other = await openConnection(uri, { backend: 'native' });
  try {
    return await other.lookup(name);
  } finally {
    await other.close();
  }
}
