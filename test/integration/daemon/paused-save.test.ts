// Real virsh against a real guestd: a guest suspended when it is managed-saved comes back paused at `virsh start`,
// with libvirt's events and reason, its memory and clock as they were; `managedsave --running` / `--paused` and
// `start --paused` say otherwise, as on libvirtd.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { cleanupAllGuestd, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { defineAndStart, guestState as stateOf, ok, waitForTicks } from '../../helpers/guests.js';
import { virsh } from '../../helpers/virsh.js';

/** the guest runtime's default tick: its memory counter moves every 100 ms while it runs */
const TICK_MS = 100;

/** `virsh event --loop` on one guest's lifecycle, its lines as they come */
function watchEvents(uri: string, guest: string): { lines: () => string[]; stop: () => void } {
  // stdbuf: virsh's stdout is a pipe here, and each event must be seen as it comes
  const child = spawn('stdbuf', ['-oL', 'virsh', '-c', uri, 'event', '--domain', guest, '--event', 'lifecycle', '--loop'], {
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return {
    lines: () => out.split('\n').filter((l) => l.startsWith('event ')).map((l) => l.replace(/^.*: /, '')),
    stop: () => child.kill('SIGKILL'),
  };
}

describe('a paused guest managed-saved comes back paused, with real virsh', () => {
  let gd: GuestdInstance;
  const name = (what: string): string => `${what}-${process.pid}`;
  const start = async (guest: string): Promise<void> => {
    await defineAndStart(gd, guest, { 'shutdown-seconds': 0 });
    await waitForTicks(gd, guest, 'the guest to tick', 0);
  };
  const guestState = (guest: string) => stateOf(gd, guest);
  const domstate = async (guest: string): Promise<string> => (await virsh(gd.uri, 'domstate', '--reason', guest)).stdout.trim();

  before(async () => {
    gd = await startGuestd();
  });
  after(cleanupAllGuestd);

  it('suspend, managedsave, start: paused as it was (memory, clock), then resume goes on from there', async () => {
    const guest = name('held');
    await start(guest);
    const events = watchEvents(gd.uri, guest);
    try {
      // virsh event says nothing once registered: suspend and resume until it sees an event (only the last four
      // events it sees are this test's)
      await waitFor('virsh event to be registered', async () => {
        await ok(virsh(gd.uri, 'suspend', guest), 'suspend');
        await ok(virsh(gd.uri, 'resume', guest), 'resume');
        return events.lines().length > 0;
      });
      await ok(virsh(gd.uri, 'suspend', guest), 'suspend');
      const paused = await guestState(guest);
      assert.match(await ok(virsh(gd.uri, 'managedsave', guest), 'managedsave'), new RegExp(`Domain '${guest}' state saved by libvirt`));
      assert.equal(await domstate(guest), 'shut off (saved)');

      await ok(virsh(gd.uri, 'start', guest), 'start');
      assert.equal(await domstate(guest), 'paused (user)');
      assert.match((await virsh(gd.uri, 'list', '--state-paused', '--name')).stdout, new RegExp(`^${guest}$`, 'm'));
      assert.deepEqual(await guestState(guest), paused, 'memory and clock as they were saved');
      const restoredAt = Date.now();
      await waitFor('five ticks of host time, the guest unchanged', async () => {
        assert.deepEqual(await guestState(guest), paused);
        return Date.now() - restoredAt > 5 * TICK_MS;
      });
      await waitFor('virsh event to see the restore', () => events.lines().at(-1) === 'Suspended Restored');
      assert.deepEqual(events.lines().slice(-4), ['Suspended Paused', 'Stopped Saved', 'Started Restored', 'Suspended Restored']);

      await ok(virsh(gd.uri, 'resume', guest), 'resume');
      assert.equal(await domstate(guest), 'running (unpaused)');
      const resumed = await waitFor('the guest to tick again', async () => {
        const s = await guestState(guest);
        return s.counter > paused.counter ? s : undefined;
      }).then((s) => s!);
      assert.ok(resumed.timeNs > paused.timeNs, 'its clock goes on from where it stood');
      await waitFor('virsh event to see the resume', () => events.lines().at(-1) === 'Resumed Unpaused');
    } finally {
      events.stop();
    }
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });

  it('a running guest managed-saved still comes back running', async () => {
    const guest = name('runs');
    await start(guest);
    await ok(virsh(gd.uri, 'managedsave', guest), 'managedsave');
    await ok(virsh(gd.uri, 'start', guest), 'start');
    assert.equal(await domstate(guest), 'running (restored)');
    await waitForTicks(gd, guest, 'the guest to tick');
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });

  it('managedsave --paused, --running and start --paused say how it comes back', async () => {
    const guest = name('flags');
    await start(guest);
    await ok(virsh(gd.uri, 'managedsave', '--paused', guest), 'managedsave --paused');
    await ok(virsh(gd.uri, 'start', guest), 'start');
    assert.equal(await domstate(guest), 'paused (user)');

    await ok(virsh(gd.uri, 'managedsave', '--running', guest), 'managedsave --running'); // paused as the save begins
    await ok(virsh(gd.uri, 'start', guest), 'start');
    assert.equal(await domstate(guest), 'running (restored)');

    await ok(virsh(gd.uri, 'managedsave', guest), 'managedsave');
    await ok(virsh(gd.uri, 'start', '--paused', guest), 'start --paused');
    assert.equal(await domstate(guest), 'paused (user)');
    await ok(virsh(gd.uri, 'resume', guest), 'resume');
    assert.equal(await domstate(guest), 'running (unpaused)');

    // virsh refuses both before asking (libvirt's client library); guestd would too
    const both = await virsh(gd.uri, 'managedsave', '--running', '--paused', guest);
    assert.equal(both.code, 1);
    assert.equal(await domstate(guest), 'running (unpaused)');
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });
});
