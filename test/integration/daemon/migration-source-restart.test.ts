// The source's guestd killed (kill -9) between a migration's last pass and its confirm, on real guestd processes:
// the restarted daemon shows the guest paused (migrating), as libvirt's recovery of an outgoing migration in that
// phase does, and leaves the decision to a client: resume continues it here from exactly the state it was paused in,
// destroy ends it. Nobody confirms a migration the daemon no longer has.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVirError, VirErr } from '../../../src/libvirt/error.js';
import { MigrateFlags } from '../../../src/remote/enums.js';
import { openConnection } from '../../../src/connect/index.js';
import type { NativeConnection } from '../../../src/connect/native.js';
import { PROC } from '../../../src/remote/protocol.js';
import { cleanupAllGuestd, isAlive, sleep, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { askGuest, guestState, ok, runtimeStatus, waitForTicks } from '../../helpers/guests.js';
import { domstate, migrationSteps, pausedState, startGuestOn } from '../../helpers/migration.js';
import { virsh } from '../../helpers/virsh.js';

describe("a migration's source guestd dies after the last pass, before the confirm", () => {
  let a: GuestdInstance;
  let b: GuestdInstance;
  before(async () => {
    [a, b] = await Promise.all([startGuestd(), startGuestd()]);
  });
  after(cleanupAllGuestd);

  let round = 0;
  let name = '';
  /** where the guest was paused for the last pass, and its process, left to the restarted source daemon */
  let paused: { counter: number; checksum: string };
  let pid = 0;
  /** `suspend`: a client suspends the guest while its memory is sent */
  const migrateThenKillSource = async ({ suspend = false } = {}): Promise<void> => {
    name = `gap${++round}-${process.pid}`;
    await startGuestOn(a, name, suspend ? { 'save-mib-per-second': 8 } : {});
    pid = runtimeStatus(a, name).pid;
    const steps = await migrationSteps(a, b, name, MigrateFlags.LIVE);
    try {
      const performing = steps.perform();
      if (suspend) {
        await waitFor('the stream under way', async () => (await askGuest(a, name, (m) => m.call('query-status'))).status === 'migrating');
        await ok(virsh(a.uri, 'suspend', name), 'suspend during the stream');
      }
      await performing;
    } finally {
      await steps.close();
    }
    paused = pausedState(a, name);
    a.child.kill('SIGKILL');
    await a.exited;
    a = await startGuestd({ dir: a.dir });
  };

  it('it shows paused (migrating), stands still, refuses a confirm; resume continues it here from that state', async () => {
    await migrateThenKillSource();
    assert.equal(await domstate(a, name), 'paused (migrating)');
    const held = await guestState(a, name);
    await sleep(400); // four ticks of a running guest
    const still = await guestState(a, name);
    assert.deepEqual([held.counter, held.checksum], [paused.counter, paused.checksum], 'the state it was paused in');
    assert.deepEqual([still.counter, still.checksum, still.timeNs], [held.counter, held.checksum, held.timeNs], 'it stands still');

    const src = (await openConnection(a.uri, { backend: 'native' })) as NativeConnection;
    try {
      const { dom } = await src.remote.call(PROC.DOMAIN_LOOKUP_BY_NAME, { name });
      await assert.rejects(
        src.remote.call(PROC.DOMAIN_MIGRATE_CONFIRM3_PARAMS, { dom, params: [], cookie_in: Buffer.alloc(0), flags: MigrateFlags.LIVE, cancelled: 0 }),
        (err: unknown) => isVirError(err, VirErr.OPERATION_INVALID),
        'no migration of this daemon to confirm',
      );
    } finally {
      await src.close();
    }
    assert.equal(await domstate(a, name), 'paused (migrating)', 'the refused confirm changed nothing');

    await ok(virsh(a.uri, 'resume', name), 'resume');
    assert.equal(await domstate(a, name), 'running (unpaused)');
    assert.equal(runtimeStatus(a, name).pid, pid, 'the same process runs on');
    const resumed = await guestState(a, name);
    assert.ok(resumed.counter >= paused.counter, `counter ${resumed.counter} continues from ${paused.counter}`);
    await waitForTicks(a, name, 'the guest works on from there', paused.counter);
    await ok(virsh(a.uri, 'suspend', name), 'suspend after the resume');
    assert.equal(await domstate(a, name), 'paused (user)');
  });

  it('suspended by a client during the stream: still paused (migrating), and one resume runs it', async () => {
    await migrateThenKillSource({ suspend: true });
    assert.equal(await domstate(a, name), 'paused (migrating)');
    assert.equal((await askGuest(a, name, (m) => m.call('query-status'))).paused, true, 'the runtime holds the suspend too');
    await ok(virsh(a.uri, 'resume', name), 'resume');
    assert.equal(await domstate(a, name), 'running (unpaused)');
    await waitForTicks(a, name, 'the guest works on here', paused.counter);
  });

  it('destroy ends it', async () => {
    await migrateThenKillSource();
    assert.equal(await domstate(a, name), 'paused (migrating)');
    await ok(virsh(a.uri, 'destroy', name), 'destroy');
    assert.equal(await domstate(a, name), 'shut off (destroyed)');
    assert.ok(!isAlive(pid), 'its process ended');
  });
});
