// Real virsh (and guestctl, printing as virsh does) against a real guestd: suspend/resume really stop a process guest
// (its memory and clock stand still), reboot and reset restart its process under the same id, and the host's
// nodeinfo, capabilities and a guest's dommemstat.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanupAllGuestd, isAlive, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { askGuest, defineAndStart, guestState as stateOf, ok, runtimeStatus } from '../../helpers/guests.js';
import { guestctl, guestXml, virsh } from '../../helpers/virsh.js';

/** the guest runtime's default tick: its memory counter moves every 100 ms while it runs */
const TICK_MS = 100;

describe('suspend, resume, reboot, reset, nodeinfo, capabilities, dommemstat with real virsh', () => {
  let gd: GuestdInstance;
  const name = (what: string): string => `${what}-${process.pid}`;
  const define = (guest: string, behavior: Record<string, string | number> = {}): Promise<void> =>
    defineAndStart(gd, guest, { 'shutdown-seconds': 0, ...behavior });
  /** the guest runtime's log, one file across the processes of a guest */
  const guestLog = (guest: string): string => path.join(gd.stateDir, 'log', `${guest}.log`);
  const guestState = (guest: string) => stateOf(gd, guest);

  before(async () => {
    gd = await startGuestd();
  });
  after(cleanupAllGuestd);

  it('suspend stops the guest where it is (memory, clock); resume goes on from there', async () => {
    const guest = name('pause');
    await define(guest);
    await waitFor('the guest to tick', async () => (await guestState(guest)).counter > 0);
    assert.match(await ok(virsh(gd.uri, 'suspend', guest), 'suspend'), new RegExp(`Domain '${guest}' suspended`));
    assert.equal((await virsh(gd.uri, 'domstate', '--reason', guest)).stdout.trim(), 'paused (user)');
    assert.match((await virsh(gd.uri, 'list', '--state-paused')).stdout, new RegExp(guest));
    const paused = await guestState(guest);
    const pausedAt = Date.now();
    // nothing to wait for here but host time: read the guest until several ticks' worth has passed, each read unchanged
    await waitFor('five ticks of host time, the guest unchanged', async () => {
      assert.deepEqual(await guestState(guest), paused);
      return Date.now() - pausedAt > 5 * TICK_MS;
    });
    // a paused guest sees no power button (libvirt's answer), and suspending it again does nothing
    const shutdown = await virsh(gd.uri, 'shutdown', guest);
    assert.equal(shutdown.code, 1);
    assert.match(shutdown.stderr, /Requested operation is not valid: domain is not running/);
    await ok(virsh(gd.uri, 'suspend', guest), 'suspend again');

    assert.match(await ok(virsh(gd.uri, 'resume', guest), 'resume'), new RegExp(`Domain '${guest}' resumed`));
    assert.equal((await virsh(gd.uri, 'domstate', '--reason', guest)).stdout.trim(), 'running (unpaused)');
    const resumed = await waitFor('the guest to tick again', async () => {
      const s = await guestState(guest);
      return s.counter > paused.counter ? s : undefined;
    }).then((s) => s!);
    // the clock went on from where it stood, not from the host's time: it is behind by about the pause
    assert.ok(resumed.timeNs > paused.timeNs);
    assert.ok(BigInt(Date.now()) * 1_000_000n - resumed.timeNs >= BigInt(4 * TICK_MS) * 1_000_000n, 'the guest clock stood still');
    const again = await virsh(gd.uri, 'resume', guest);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Requested operation is not valid: domain is already running/);
  });

  it('start --paused: started, then paused, standing still until resumed', async () => {
    const guest = name('startpaused');
    const file = path.join(gd.dir, `${guest}.xml`);
    writeFileSync(file, guestXml(guest, {}, 4));
    await ok(virsh(gd.uri, 'define', file), 'define');
    await ok(virsh(gd.uri, 'start', '--paused', guest), 'start --paused');
    assert.equal((await virsh(gd.uri, 'domstate', '--reason', guest)).stdout.trim(), 'paused (user)');
    assert.equal((await guestState(guest)).counter, 0);
    await ok(virsh(gd.uri, 'resume', guest), 'resume');
    await waitFor('the guest to tick', async () => (await guestState(guest)).counter > 0);
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });

  it('virsh event --all: every event id can be registered', async () => {
    const r = await virsh(gd.uri, 'event', '--all', '--timeout', '1');
    // virsh exits 1 when its timeout ends the wait, registered or not: what tells is that no registration failed
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /event loop timed out\nevents received: 0/);
  });

  it('a paused guest is still paused after guestd restarts (kill -9), and resumes', async () => {
    const guest = name('pausedrestart');
    await define(guest);
    await ok(virsh(gd.uri, 'suspend', guest), 'suspend');
    const before = await guestState(guest);
    gd.child.kill('SIGKILL');
    await gd.exited;
    gd = await startGuestd({ dir: gd.dir });
    assert.equal((await virsh(gd.uri, 'domstate', '--reason', guest)).stdout.trim(), 'paused (user)');
    assert.deepEqual(await guestState(guest), before);
    await ok(virsh(gd.uri, 'resume', guest), 'resume');
    await waitFor('the guest to tick again', async () => (await guestState(guest)).counter > before.counter);
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });

  it('suspend, resume, reboot, reset of a shut-off guest: domain is not running', async () => {
    const guest = name('off');
    await define(guest);
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
    for (const cmd of ['suspend', 'resume', 'reboot', 'reset', 'dommemstat']) {
      const r = await virsh(gd.uri, cmd, guest);
      assert.equal(r.code, 1, cmd);
      assert.match(r.stderr, /Requested operation is not valid: domain is not running/, cmd);
      const ours = await guestctl(gd.uri, cmd, guest);
      assert.equal(ours.code, 1, cmd);
      assert.match(ours.stderr, /domain is not running/, cmd);
    }
  });

  it('reboot: a shutdown, then a new guest process with the same id; reset: a new process at once', async () => {
    const guest = name('reboot');
    await define(guest);
    const id = (await virsh(gd.uri, 'domid', guest)).stdout.trim();
    const first = runtimeStatus(gd, guest).pid;
    assert.match(await ok(virsh(gd.uri, 'reboot', guest), 'reboot'), new RegExp(`Domain '${guest}' is being rebooted`));
    const second = await waitFor('a new guest process', () => {
      const pid = runtimeStatus(gd, guest).pid;
      return pid !== first ? pid : undefined;
    }).then((pid) => pid!);
    await waitFor('the old process to be gone', () => !isAlive(first));
    assert.equal((await virsh(gd.uri, 'domid', guest)).stdout.trim(), id);
    assert.equal((await virsh(gd.uri, 'domstate', '--reason', guest)).stdout.trim(), 'running (booted)');

    assert.match(await ok(guestctl(gd.uri, 'reset', guest), 'reset'), new RegExp(`Domain '${guest}' was reset`));
    const third = runtimeStatus(gd, guest).pid; // reset returns once the new process runs
    assert.notEqual(third, second);
    assert.ok(!isAlive(second));
    assert.equal((await virsh(gd.uri, 'domid', guest)).stdout.trim(), id);
    // a fresh boot each time, not the old memory carried on: start, reboot and reset each booted a new runtime
    assert.equal(readFileSync(guestLog(guest), 'utf8').match(/booting with \d+ bytes of memory/g)?.length, 3, 'three fresh boots');
    assert.equal((await askGuest(gd, guest, (m) => m.call('query-state'))).restoredFrom, null);
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });

  it('reboot of a guest that ignores the power button: nothing happens, as with real hardware', async () => {
    const guest = name('stubborn');
    await define(guest, { 'honor-shutdown': 'no' });
    const pid = runtimeStatus(gd, guest).pid;
    await ok(virsh(gd.uri, 'reboot', guest), 'reboot');
    // the guest saw the button and ignored it: the same process runs on
    const log = guestLog(guest);
    await waitFor('the guest to ignore the button', () => existsSync(log) && /shutdown requested: ignored/.test(readFileSync(log, 'utf8')));
    assert.equal(runtimeStatus(gd, guest).pid, pid);
    assert.equal((await virsh(gd.uri, 'domstate', guest)).stdout.trim(), 'running');
    await ok(virsh(gd.uri, 'reset', guest), 'reset'); // the reset button works on it
    assert.notEqual(runtimeStatus(gd, guest).pid, pid);
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });

  it('guestctl suspend/resume/reboot print as virsh does', async () => {
    const guest = name('ctl');
    await define(guest);
    for (const cmd of ['suspend', 'resume', 'reboot']) {
      const theirs = await ok(virsh(gd.uri, cmd, guest), `virsh ${cmd}`);
      const state = (await virsh(gd.uri, 'domstate', guest)).stdout;
      if (cmd === 'reboot') {
        assert.equal(await ok(guestctl(gd.uri, cmd, guest), `guestctl ${cmd}`), theirs);
        continue;
      }
      // the same command again from guestctl needs the state back
      await ok(virsh(gd.uri, cmd === 'suspend' ? 'resume' : 'suspend', guest), 'undo');
      assert.equal(await ok(guestctl(gd.uri, cmd, guest), `guestctl ${cmd}`), theirs);
      assert.equal((await virsh(gd.uri, 'domstate', guest)).stdout, state);
    }
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });

  it('nodeinfo, capabilities and dommemstat: the host and the guest, the same from virsh and guestctl', async () => {
    const nodeinfo = await ok(virsh(gd.uri, 'nodeinfo'), 'nodeinfo');
    assert.match(nodeinfo, /^CPU model:\s+\S+\nCPU\(s\):\s+\d+\nCPU frequency:\s+\d+ MHz\n/);
    assert.match(nodeinfo, /Memory size:\s+\d+ KiB/);
    assert.equal(await ok(guestctl(gd.uri, 'nodeinfo'), 'guestctl nodeinfo'), nodeinfo);

    const caps = await ok(virsh(gd.uri, 'capabilities'), 'capabilities');
    assert.match(caps, /<os_type>exe<\/os_type>/);
    assert.match(caps, /<domain type='process'\/>/);
    assert.match(caps, /<topology sockets='\d+' dies='\d+' cores='\d+' threads='\d+'\/>/);
    assert.equal(await ok(guestctl(gd.uri, 'capabilities'), 'guestctl capabilities'), caps);

    const guest = name('stats');
    await define(guest);
    const stats = await ok(virsh(gd.uri, 'dommemstat', guest), 'dommemstat');
    assert.match(stats, /^actual 4096\nrss \d+\n/);
    const ours = await ok(guestctl(gd.uri, 'dommemstat', guest), 'guestctl dommemstat');
    assert.match(ours, /^actual 4096\nrss \d+\n\n$/);
    const json = JSON.parse(await ok(guestctl(gd.uri, 'dommemstat', guest, '--json'), 'dommemstat --json')) as { stats: { name: string }[] };
    assert.deepEqual(json.stats.map((s) => s.name), ['actual', 'rss']);
    assert.equal((await virsh(gd.uri, 'domcontrol', guest)).stdout.trim(), 'ok');
    await ok(virsh(gd.uri, 'destroy', guest), 'destroy');
  });
});
