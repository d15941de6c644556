// Migration of process guests between two real guestd daemons: real virsh (peer to peer, and managed by virsh
// itself) and our client's one call. The guest's memory proves the continuity: the destination restores exactly
// the state (counter and sha256 of the memory) the source had when it paused the guest for the last pass.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openConnection } from '../../../src/connect/index.js';
import type { Connection } from '../../../src/connect/connection.js';
import type { NativeConnection } from '../../../src/connect/native.js';
import { isVirError, VirErr } from '../../../src/libvirt/error.js';
import { MigrateFlags, MigrateParam } from '../../../src/remote/enums.js';
import { PROC } from '../../../src/remote/protocol.js';
import { tp } from '../../../src/remote/types.js';
import { cleanupAllGuestd, isAlive, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { askGuest, ok, runtimeStatus, waitForTicks } from '../../helpers/guests.js';
import { domstate, migrationSteps, pausedState, startGuestOn } from '../../helpers/migration.js';
import { virsh } from '../../helpers/virsh.js';

describe('guestd migrates process guests', () => {
  let a: GuestdInstance;
  let b: GuestdInstance;
  let connA: Connection;
  let connB: Connection;
  before(async () => {
    [a, b] = await Promise.all([startGuestd(), startGuestd()]);
    [connA, connB] = await Promise.all([openConnection(a.uri), openConnection(b.uri)]);
  });
  after(async () => {
    await Promise.all([connA?.close(), connB?.close()]);
    await cleanupAllGuestd();
  });

  const persistent = async (gd: GuestdInstance, name: string): Promise<string> =>
    /Persistent:\s+(\w+)/.exec(await ok(virsh(gd.uri, 'dominfo', name), 'dominfo'))?.[1] ?? '?';

  it('real virsh migrate --p2p --live: the guest runs on at the peer from the state it was paused in', async () => {
    const name = `p2p-${process.pid}`;
    await startGuestOn(a, name);
    const pid = runtimeStatus(a, name).pid;
    await ok(virsh(a.uri, 'migrate', '--p2p', '--live', '--persistent', '--undefinesource', name, b.uri), 'virsh migrate');
    const paused = pausedState(a, name);
    const there = await askGuest(b, name, (m) => m.call('query-state'));
    assert.deepEqual(there.restoredFrom, paused, 'restored from exactly the state the source paused in');
    assert.ok(paused.counter >= 3);
    await waitForTicks(b, name, 'the guest works on at the peer', paused.counter);
    assert.equal(await domstate(b, name), 'running (migrated)');
    assert.equal(await persistent(b, name), 'yes', 'PERSIST_DEST');
    assert.ok(!isAlive(pid), 'the source process ended');
    const left = await virsh(a.uri, 'domstate', name);
    assert.match(left.stderr, /failed to get domain/, 'UNDEFINE_SOURCE');
    assert.match(a.stderr(), new RegExp(`domain '${name}': migrated to .* in \\d+ ms, downtime \\d+ ms`));
  });

  it("our client's one call, without flags: a transient guest there, the definition kept here shut off as migrated; and back", async () => {
    const name = `call-${process.pid}`;
    await startGuestOn(a, name);
    const guest = await connA.lookup(name);
    await connA.migrate(guest, b.uri);
    const paused = pausedState(a, name);
    assert.deepEqual((await askGuest(b, name, (m) => m.call('query-state'))).restoredFrom, paused);
    assert.equal(await persistent(b, name), 'no', 'transient at the destination without PERSIST_DEST');
    assert.equal(await domstate(a, name), 'shut off (migrated)', 'the source keeps its definition without UNDEFINE_SOURCE');

    // back, live, into the definition it left behind
    await connB.migrate(await connB.lookup(name), a.uri, { live: true, persistent: true, undefineSource: true });
    const pausedThere = pausedState(b, name);
    assert.ok(pausedThere.counter >= paused.counter);
    assert.deepEqual((await askGuest(a, name, (m) => m.call('query-state'))).restoredFrom, pausedThere);
    assert.equal(await domstate(a, name), 'running (migrated)');
    assert.equal(await persistent(a, name), 'yes');
    assert.deepEqual(await connB.listGuests({ which: 'all' }).then((l) => l.filter((g) => g.name === name)), [], 'a transient guest is gone');
  });

  it('the virsh backend makes the same call (virsh migrate --p2p)', async () => {
    const name = `virshcall-${process.pid}`;
    await startGuestOn(a, name);
    const viaVirsh = await openConnection(a.uri, { backend: 'virsh' });
    try {
      await viaVirsh.migrate(await viaVirsh.lookup(name), b.uri, { live: true, persistent: true, undefineSource: true });
    } finally {
      await viaVirsh.close();
    }
    assert.deepEqual((await askGuest(b, name, (m) => m.call('query-state'))).restoredFrom, pausedState(a, name));
    assert.equal(await persistent(b, name), 'yes');
  });

  it('real virsh migrate without --p2p (virsh drives both daemons) works too', async () => {
    const name = `managed-${process.pid}`;
    await startGuestOn(a, name);
    await ok(virsh(a.uri, 'migrate', '--live', '--persistent', '--undefinesource', name, b.uri), 'virsh migrate');
    assert.deepEqual((await askGuest(b, name, (m) => m.call('query-state'))).restoredFrom, pausedState(a, name));
    assert.equal(await persistent(b, name), 'yes');
  });

  it('a peer that is down: the call fails, the guest runs on here with no job left', async () => {
    const name = `down-${process.pid}`;
    await startGuestOn(a, name);
    const guest = await connA.lookup(name);
    const pid = runtimeStatus(a, name).pid;
    await assert.rejects(
      connA.migrate(guest, `guest+unix:///system?socket=${path.join(a.dir, 'no-such-socket')}`, { live: true }),
      (err: unknown) => isVirError(err, VirErr.OPERATION_FAILED) && /cannot connect to the destination/.test((err as Error).message),
    );
    assert.equal(await domstate(a, name), 'running (booted)');
    assert.equal(runtimeStatus(a, name).pid, pid);
    assert.deepEqual(await connA.jobInfo(guest), { type: 'none' });
    await waitForTicks(a, name, 'the guest still works');
  });

  it('the steps one by one: the source, paused for the confirm, refuses a resume (the guest runs at the destination)', async () => {
    const name = `steps-${process.pid}`;
    await startGuestOn(a, name);
    const steps = await migrationSteps(a, b, name, MigrateFlags.LIVE);
    try {
      const finished = await steps.finish((await steps.perform()).cookie_out, false);
      assert.equal(await domstate(b, name), 'running (migrated)');
      assert.equal(await domstate(a, name), 'paused (migrating)');
      await assert.rejects(
        steps.src.remote.call(PROC.DOMAIN_RESUME, { dom: steps.dom }),
        (err: unknown) => isVirError(err, VirErr.OPERATION_INVALID) && /paused by its migration/.test((err as Error).message),
      );
      await steps.confirm(finished.cookie_out, false);
      assert.equal(await domstate(a, name), 'shut off (migrated)');
    } finally {
      await steps.close();
    }
  });

  it('suspended during the stream, then cancelled: the guest stays suspended here (driver and runtime agree)', async () => {
    const name = `suspended-${process.pid}`;
    await startGuestOn(a, name, { 'save-mib-per-second': 8 }, 16);
    const guest = await connA.lookup(name);
    const steps = await migrationSteps(a, b, name, MigrateFlags.LIVE);
    try {
      const performing = steps.perform();
      await waitFor('the stream under way', async () => ((await connA.jobInfo(guest)).dataProcessed ?? 0) > 0);
      await ok(virsh(a.uri, 'suspend', name), 'suspend');
      const performed = await performing;
      await assert.rejects(steps.finish(performed.cookie_out, true), (err: unknown) => isVirError(err, VirErr.OPERATION_FAILED));
      await steps.confirm(Buffer.alloc(0), true);
      assert.equal(await domstate(a, name), 'paused (user)');
      assert.equal((await askGuest(a, name, (m) => m.call('query-status'))).paused, true);
      await ok(virsh(a.uri, 'resume', name), 'resume');
      await waitForTicks(a, name, 'the guest works on here');
    } finally {
      await steps.close();
    }
  });

  it('migration steps out of place during a save are refused and leave the save job alone', async () => {
    const name = `stray-${process.pid}`;
    await startGuestOn(a, name, { 'save-mib-per-second': 8 }, 16);
    const guest = await connA.lookup(name);
    const src = (await openConnection(a.uri, { backend: 'native' })) as NativeConnection;
    try {
      const saving = virsh(a.uri, 'managedsave', name);
      await waitFor('the save under way', async () => ((await connA.jobInfo(guest)).dataProcessed ?? 0) > 0);
      const { dom } = await src.remote.call(PROC.DOMAIN_LOOKUP_BY_NAME, { name });
      const cookie = Buffer.from(JSON.stringify({ guestd: 1, uuid: 'x', name, token: 'x' }));
      const flags = MigrateFlags.LIVE;
      await assert.rejects(
        src.remote.call(PROC.DOMAIN_MIGRATE_PERFORM3_PARAMS, {
          dom,
          dconnuri: null,
          params: [tp.string(MigrateParam.URI, `unix:${path.join(a.dir, 'no-such-socket')}`)],
          cookie_in: cookie,
          flags,
        }),
        (err: unknown) => isVirError(err, VirErr.OPERATION_INVALID) && /no migration job/.test((err as Error).message),
      );
      await src.remote.call(PROC.DOMAIN_MIGRATE_CONFIRM3_PARAMS, { dom, params: [], cookie_in: cookie, flags, cancelled: 1 });
      assert.equal((await connA.jobInfo(guest)).type, 'bounded', 'the save job is still shown');
      await ok(saving, 'managedsave');
      assert.equal(await domstate(a, name), 'shut off (saved)');
    } finally {
      await src.close();
    }
  });

  it('an abort at once, before the job can have started: the migration is not made, the guest runs on here', async () => {
    const name = `early-${process.pid}`;
    await startGuestOn(a, name, { 'save-mib-per-second': 8 }, 64);
    const guest = await connA.lookup(name);
    const abort = new AbortController();
    const migrating = connA.migrate(guest, b.uri, { live: true, signal: abort.signal });
    abort.abort(); // while the call opens its own connection, or its job is not there yet to be aborted
    await assert.rejects(migrating, (err: unknown) => isVirError(err, VirErr.OPERATION_ABORTED));
    assert.match(await domstate(a, name), /^running/);
    assert.deepEqual(await connA.jobInfo(guest), { type: 'none' });
    assert.deepEqual(await connB.listGuests({ which: 'all' }).then((l) => l.filter((g) => g.name === name)), []);
  });

  it('an aborted migration (a slow stream): the guest runs on here, nothing is left at the peer', async () => {
    const name = `abort-${process.pid}`;
    await startGuestOn(a, name, { 'save-mib-per-second': 8 }, 64);
    const guest = await connA.lookup(name);
    const abort = new AbortController();
    const migrating = connA.migrate(guest, b.uri, { live: true, signal: abort.signal });
    await waitFor('the stream under way', async () => {
      const job = await connA.jobInfo(guest);
      return job.type === 'bounded' && (job.dataProcessed ?? 0) > 0;
    });
    abort.abort();
    await assert.rejects(migrating, (err: unknown) => isVirError(err, VirErr.OPERATION_ABORTED));
    assert.match(await domstate(a, name), /^running/);
    assert.deepEqual(await connA.jobInfo(guest), { type: 'none' });
    assert.deepEqual(await connB.listGuests({ which: 'all' }).then((l) => l.filter((g) => g.name === name)), []);
    await waitForTicks(a, name, 'the guest still works');
  });
});
