// The Connection contract, run unchanged against both backends (virsh and native) over the real libvirtd
// (qemu:///system) and real QEMU guests from scripts/real-libvirt. virsh's own output is the ground truth.
// Skips only when the real stack is absent here, and never when CI=true.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openConnection, type Backend } from '../../src/connect/index.js';
import type { Connection, GuestRef, LifecycleEvent } from '../../src/connect/connection.js';
import type { JobProgress } from '../../src/libvirt/job.js';
import type { LifecycleKind } from '../../src/libvirt/lifecycle.js';
import { isVirError, LibvirtError, VirErr } from '../../src/libvirt/error.js';
import { bootAndWait, defineGuest, guestsClean, guestsUp, lines, missingPrerequisite, runningGuests, URI, virsh } from './real-libvirt.js';

const BACKENDS: Backend[] = (process.env.CONTRACT_BACKENDS?.split(',') as Backend[] | undefined) ?? ['virsh', 'native'];
const ACPI = 'lgt-acpi-1'; // kernel guest, 352 MiB with 238 MiB of non-zero data: a real managed save
const STUCK = ['lgt-stuck-1', 'lgt-stuck-2', 'lgt-stuck-3'];
/** how long an event may take to arrive: a lost event fails, a slow one is not this test's business (bench/) */
const EVENT_WINDOW_MS = 30_000;

const missing = await missingPrerequisite();
const inCi = process.env.CI === 'true';
if (missing && !inCi) console.log(`# skipping the connection contract e2e tests: ${missing}`);
const skip = missing && !inCi ? missing : false;

describe('connection contract over real libvirtd', { skip }, () => {
  before(async () => {
    if (missing) throw new Error(`CI=true, so the e2e prerequisites must be present: ${missing}`);
    await guestsUp('stuck', STUCK.length);
    await defineGuest('acpi', ACPI, 352, 238);
  });
  after(async () => {
    if (!missing) await guestsClean();
  });

  for (const backend of BACKENDS) {
    describe(`${backend} backend`, () => {
      let conn: Connection;
      const events: LifecycleEvent[] = [];
      let unsubscribe: () => Promise<void> = async () => {};
      let acpi: GuestRef;
      let stuck: GuestRef;

      before(async () => {
        // each backend starts from the same state: 4 running guests, the kernel guest freshly booted
        if ((await virsh('domstate', ACPI)).trim() !== 'running') await bootAndWait(ACPI);
        for (const name of STUCK) if ((await virsh('domstate', name)).trim() !== 'running') await virsh('start', name);
        conn = await openConnection(URI, { backend });
        assert.equal(conn.backend, backend);
        unsubscribe = await conn.onLifecycle((e) => events.push(e));
      });
      after(async () => {
        await unsubscribe();
        await conn?.close();
      });

      /** The first event of that kind for that guest after `since`, waiting until `deadline`. */
      async function eventFor(name: string, kind: LifecycleKind, since: number, deadline: number, from = events): Promise<LifecycleEvent> {
        for (;;) {
          const found = from.find((e) => e.guest.name === name && e.kind === kind && e.receivedAt >= since);
          if (found) return found;
          if (Date.now() > deadline) {
            const seen = from.filter((e) => e.receivedAt >= since).map((e) => `${e.guest.name}:${e.kind}/${e.detail}`);
            assert.fail(`no '${kind}' event for ${name} within ${EVENT_WINDOW_MS} ms (seen: ${seen.join(', ') || 'none'})`);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      }

      it('lists the same guests as virsh list --uuid / --name', async () => {
        const all = await conn.listGuests({ which: 'all' });
        assert.deepEqual(all.map((g) => g.uuid).sort(), lines(await virsh('list', '--all', '--uuid')));
        assert.deepEqual(all.map((g) => g.name).sort(), lines(await virsh('list', '--all', '--name')));
        const running = await conn.listGuests();
        assert.deepEqual(running.map((g) => g.uuid).sort(), lines(await virsh('list', '--uuid')));
        const ours = running.filter((g) => g.name.startsWith('lgt-'));
        assert.equal(ours.length, 4, `4 running test guests expected, got ${ours.map((g) => g.name).join(', ')}`);
        for (const g of ours) {
          assert.equal(g.state, 'running');
          assert.equal(g.persistent, true);
          assert.ok(g.id > 0);
          assert.equal(String(g.id), (await virsh('domid', g.name)).trim());
        }
        assert.deepEqual(await conn.listGuests({ which: 'inactive', persistence: 'transient' }), []);
        acpi = await conn.lookup(ACPI);
        stuck = await conn.lookup(STUCK[0]!);
        assert.deepEqual(await conn.lookup(acpi.uuid), acpi);
        assert.equal(acpi.uuid, (await virsh('domuuid', ACPI)).trim());
      });

      it("lists running guests in virsh's order (by id), as the original's messages and list file need", async () => {
        const names = (await conn.listGuests()).map((g) => g.name);
        assert.deepEqual(names, await runningGuests());
      });

      it('sets, reads and removes a metadata element (live and config of a running guest)', async () => {
        const ns = 'https://libvirt-guests-ts.invalid/contract/1';
        await conn.setMetadata(stuck, ns, 'ct', '<mark n="1"/>');
        assert.match((await conn.getMetadata(stuck, ns))!, /<(ct:)?mark .*n="1"/);
        assert.match(await virsh('metadata', STUCK[0]!, '--uri', ns, '--config'), /n="1"/, 'in the persistent config too');
        await conn.setMetadata(stuck, ns, 'ct', null);
        assert.equal(await conn.getMetadata(stuck, ns), null);
      });

      it('reports a missing guest as NO_DOMAIN', async () => {
        await assert.rejects(conn.lookup('lgt-does-not-exist'), (e: unknown) => isVirError(e, VirErr.NO_DOMAIN));
      });

      it('managed-saves a 238 MB guest with progress, and the save events arrive', async (t) => {
        const progress: JobProgress[] = [];
        const t0 = Date.now();
        await conn.managedSave(acpi, { onProgress: (p) => progress.push(p), progressIntervalMs: 30 });
        const done = Date.now();
        t.diagnostic(`${backend}: save took ${done - t0} ms, progress reported ${progress.length} times`);
        // a backend may end with one 'completed' report; progress proper is a running job's
        const running = progress.filter((p) => p.type === 'bounded' || p.type === 'unbounded');
        assert.ok(running.length >= 2, `progress of the running job observed ${running.length} time(s) in ${done - t0} ms`);
        assert.deepEqual(progress.filter((p) => !running.includes(p) && p.type !== 'completed'), []);
        assert.ok(progress.some((p) => (p.dataTotal ?? 0) > 238e6), `data total ${progress.map((p) => p.dataTotal).join(',')}`);
        assert.ok(progress.some((p) => (p.dataProcessed ?? 0) > 0));
        assert.deepEqual(await conn.state(acpi), { state: 'shutoff', reason: 5 }); // SHUTOFF_SAVED
        assert.equal(await conn.hasManagedSave(acpi), true);
        assert.match(await virsh('dominfo', ACPI), /Managed save:\s+yes/);
        const suspended = await eventFor(ACPI, 'suspended', t0, done + EVENT_WINDOW_MS);
        const stopped = await eventFor(ACPI, 'stopped', t0, done + EVENT_WINDOW_MS);
        assert.equal(stopped.detail, 4); // STOPPED_SAVED
        assert.equal(stopped.guest.uuid, acpi.uuid);
        assert.ok(suspended.receivedAt <= stopped.receivedAt);
      });

      it('restores the saved guest through start, with a started event', async () => {
        const t0 = Date.now();
        const started = await conn.start(acpi);
        const done = Date.now();
        assert.equal(started.uuid, acpi.uuid);
        assert.ok(started.id > 0);
        assert.equal(String(started.id), (await virsh('domid', ACPI)).trim());
        assert.deepEqual(await conn.state(started), { state: 'running', reason: 3 }); // RUNNING_RESTORED
        assert.equal(await conn.hasManagedSave(started), false);
        const ev = await eventFor(ACPI, 'started', t0, done + EVENT_WINDOW_MS);
        assert.equal(ev.detail, 2); // STARTED_RESTORED
        acpi = started;
      });

      it('shuts the kernel guest down through ACPI', async () => {
        const t0 = Date.now();
        await conn.shutdown(acpi);
        let off = 0;
        while (Date.now() - t0 < 60_000) {
          if ((await conn.state(acpi)).state === 'shutoff') {
            off = Date.now();
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(off, `${ACPI} still running 60 s after the ACPI shutdown request`);
        assert.deepEqual(await conn.state(acpi), { state: 'shutoff', reason: 1 }); // SHUTOFF_SHUTDOWN
        const ev = await eventFor(ACPI, 'stopped', t0, off + EVENT_WINDOW_MS);
        assert.equal(ev.detail, 0); // STOPPED_SHUTDOWN
      });

      it('destroys a guest, and starts it again, with their events', async () => {
        let t0 = Date.now();
        await conn.destroy(stuck);
        let done = Date.now();
        assert.deepEqual(await conn.state(stuck), { state: 'shutoff', reason: 2 }); // SHUTOFF_DESTROYED
        assert.equal((await virsh('domstate', stuck.name)).trim(), 'shut off');
        assert.equal((await eventFor(stuck.name, 'stopped', t0, done + EVENT_WINDOW_MS)).detail, 1); // STOPPED_DESTROYED
        await assert.rejects(conn.destroy(stuck), (e: unknown) => isVirError(e, VirErr.OPERATION_INVALID));
        t0 = Date.now();
        stuck = await conn.start(stuck, { forceBoot: true });
        done = Date.now();
        assert.ok(stuck.id > 0);
        assert.equal((await eventFor(stuck.name, 'started', t0, done + EVENT_WINDOW_MS)).detail, 0); // STARTED_BOOTED
      });

      it('surfaces setTime({sync}) on a guest without agent as ARGUMENT_UNSUPPORTED', async () => {
        await assert.rejects(conn.setTime(stuck, { sync: true }), (e: unknown) => {
          assert.ok(e instanceof LibvirtError, String(e));
          assert.equal(e.virCode, VirErr.ARGUMENT_UNSUPPORTED);
          assert.match(e.message, /agent is not configured/);
          return true;
        });
      });

      it('stops delivering events after unsubscribe', async () => {
        await unsubscribe();
        const count = events.length;
        // a new subscription sees the resume: anything sent to the old one would have come before (or never)
        const probe: LifecycleEvent[] = [];
        unsubscribe = await conn.onLifecycle((e) => probe.push(e));
        const t0 = Date.now();
        await virsh('suspend', stuck.name);
        await virsh('resume', stuck.name);
        await eventFor(stuck.name, 'resumed', t0, Date.now() + EVENT_WINDOW_MS, probe);
        assert.equal(events.length, count);
      });
    });
  }
});
