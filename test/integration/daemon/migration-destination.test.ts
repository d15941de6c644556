// The destination of a migration between two real guestd: as libvirt's, it keeps the incoming guest paused until
// FINISH3 resumes it, and ends it when the connection that prepared the migration closes before FINISH3 (the source
// daemon, or the client driving the steps, died): the guest never runs at both ends.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openConnection } from '../../../src/connect/index.js';
import type { LifecycleEvent } from '../../../src/connect/connection.js';
import { MigrateFlags } from '../../../src/remote/enums.js';
import { cleanupAllGuestd, isAlive, sleep, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { askGuest, guestState, ok, runtimeStatus, waitForTicks } from '../../helpers/guests.js';
import { domstate, migrationSteps, pausedState, startGuestOn } from '../../helpers/migration.js';
import { virsh } from '../../helpers/virsh.js';

describe('the destination of a migration keeps the guest paused until FINISH3', () => {
  let a: GuestdInstance;
  let b: GuestdInstance;
  before(async () => {
    [a, b] = await Promise.all([startGuestd(), startGuestd()]);
  });
  after(() => cleanupAllGuestd());

  it('restored paused (migrating), standing still, after PERFORM3; FINISH3 resumes it (running, migrated)', async () => {
    const name = `destpaused-${process.pid}`;
    await startGuestOn(a, name);
    const watcher = await openConnection(b.uri, { backend: 'native' });
    const events: LifecycleEvent[] = [];
    const unsubscribe = await watcher.onLifecycle((e) => {
      if (e.guest.name === name) events.push(e);
    });
    const steps = await migrationSteps(a, b, name, MigrateFlags.LIVE);
    try {
      const performed = await steps.perform();
      const paused = pausedState(a, name);
      await waitFor('the guest restored at the destination', async () => (await domstate(b, name)) === 'paused (migrating)');
      const there = await askGuest(b, name, (m) => m.call('query-state'));
      assert.deepEqual(there.restoredFrom, paused, 'restored from exactly the state the source paused in');
      assert.equal(there.counter, paused.counter);
      await sleep(300);
      assert.equal((await guestState(b, name)).counter, paused.counter, 'it stands still until FINISH3');
      assert.equal((await askGuest(b, name, (m) => m.call('query-status'))).paused, true);
      await waitFor('STARTED/MIGRATED', () => events.length >= 1);
      assert.deepEqual(
        events.map((e) => [e.kind, e.detail]),
        [['started', 1]],
        'STARTED/MIGRATED once restored',
      );

      const finished = await steps.finish(performed.cookie_out, false);
      assert.equal(await domstate(b, name), 'running (migrated)');
      await waitForTicks(b, name, 'the guest works on at the destination', paused.counter);
      await waitFor('RESUMED/MIGRATED', () => events.length >= 2);
      assert.deepEqual(
        events.map((e) => [e.kind, e.detail]),
        [
          ['started', 1],
          ['resumed', 1],
        ],
      );
      await steps.confirm(finished.cookie_out, false);
      assert.equal(await domstate(a, name), 'shut off (migrated)');
    } finally {
      await unsubscribe();
      await watcher.close();
      await steps.close();
    }
  });

  const cases = [
    { definedThere: false, killDestination: false, what: "the connection that prepared it closes before FINISH3: the destination's copy ends (gone)" },
    { definedThere: true, killDestination: false, what: "the connection that prepared it closes before FINISH3: the destination's copy ends (defined there: shut off)" },
    { definedThere: false, killDestination: true, what: 'the destination guestd killed before FINISH3: restarted, it kills the incoming copy (gone)' },
  ];
  for (const [i, { definedThere, killDestination, what }] of cases.entries()) {
    it(`${what}; the source's resumes`, async () => {
      const name = `abandoned${i}-${process.pid}`;
      await startGuestOn(a, name);
      if (definedThere) {
        const file = path.join(b.dir, `${name}.xml`);
        writeFileSync(file, await ok(virsh(a.uri, 'dumpxml', name), 'dumpxml'));
        await ok(virsh(b.uri, 'define', file), 'define there');
      }
      const steps = await migrationSteps(a, b, name, MigrateFlags.LIVE);
      try {
        await steps.perform();
        await waitFor('the guest restored at the destination', async () => (await askGuest(b, name, (m) => m.call('query-state'))).restoredFrom !== null);
        const pid = runtimeStatus(b, name).pid;
        assert.ok(isAlive(pid));
        if (killDestination) {
          b.child.kill('SIGKILL'); // the daemon dies; its runtime, paused, does not
          await b.exited;
          b = await startGuestd({ dir: b.dir });
        } else await steps.dst.close(); // no FINISH3 will come
        await waitFor("the destination's runtime ends", () => !isAlive(pid));
        if (definedThere) await waitFor('shut off at the destination', async () => (await domstate(b, name)) === 'shut off (failed)');
        else
          await waitFor('gone from the destination', async () => /failed to get domain/.test((await virsh(b.uri, 'domstate', name)).stderr));
        // the client that drove it, or the source's admin, decides: cancelled, it runs on at the source
        await steps.confirm(Buffer.alloc(0), true);
        assert.equal(await domstate(a, name), 'running (migration canceled)');
        await waitForTicks(a, name, 'the guest works on at the source');
      } finally {
        await steps.close();
      }
    });
  }
});
