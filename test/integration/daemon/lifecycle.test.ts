// guestd as a process: PID file, signals (SIGHUP reload, SIGTERM leaving guests running), restart, -t idle
// timeout, -d detach, systemd socket activation, options.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  canConnect,
  cleanupAllGuestd,
  guestdPaths,
  isAlive,
  killProcessesMentioning,
  programArgs,
  sleep,
  startGuestd,
  waitFor,
  waitForSocket,
  writeGuestdConfig,
} from '../../helpers/guestd.js';
import { guestXml, runProgram, virsh } from '../../helpers/virsh.js';

const guestd = (...args: string[]) => runProgram(process.execPath, [...programArgs('src/daemon/main.ts'), ...args], { timeoutMs: 20_000 });

async function defineAndStart(uri: string, dir: string, name: string): Promise<void> {
  const file = path.join(dir, `${name}.xml`);
  writeFileSync(file, guestXml(name, { 'shutdown-seconds': 0 }));
  const d = await virsh(uri, 'define', file);
  assert.equal(d.code, 0, d.stderr);
  const s = await virsh(uri, 'start', name);
  assert.equal(s.code, 0, s.stderr);
}

describe('guestd process lifecycle', () => {
  after(cleanupAllGuestd);

  it('prints help and version, and rejects bad options with exit 2', async () => {
    const help = await guestd('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--timeout/);
    assert.match(help.stdout, /\/run\/guestd\/guestd-sock/);
    const version = await guestd('--version');
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^guestd .*\d+\.\d+\.\d+/);
    const bad = await guestd('--bogus');
    assert.equal(bad.code, 2);
    const badTimeout = await guestd('-t', 'soon');
    assert.equal(badTimeout.code, 2);
    assert.match(badTimeout.stderr, /invalid timeout 'soon'/);
  });

  it('refuses a bad config file with exit 6 naming file:line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'guestd-badconf-'));
    try {
      const conf = path.join(dir, 'guestd.conf');
      writeFileSync(conf, '# ok\nlog_level = 2\nunix_sock_rw_perms = 770\n');
      const r = await guestd('-f', conf, '-p', path.join(dir, 'pid'));
      assert.equal(r.code, 6);
      assert.ok(r.stderr.includes(`${conf}:3:`), r.stderr);
      assert.match(r.stderr, /unix_sock_rw_perms/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes a PID file, refuses a second instance, and takes over a stale PID file', async () => {
    const first = await startGuestd();
    assert.equal(readFileSync(first.pidFile, 'utf8').trim(), String(first.child.pid));
    const second = await guestd('-f', first.configFile, '-p', first.pidFile);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`already running as pid ${first.child.pid}`));
    assert.ok(await canConnect(first.rwSocket), 'the first instance keeps serving');
    assert.equal(await first.stop(), 0);
    assert.throws(() => statSync(first.pidFile), /ENOENT/, 'the PID file is removed on exit');

    // a PID file naming a dead process, then one naming a live process that is not guestd
    const dead = spawnSync('true').pid;
    for (const stale of [dead, process.pid]) {
      writeFileSync(first.pidFile, `${stale}\n`);
      const again = await startGuestd({ dir: first.dir });
      assert.equal(readFileSync(first.pidFile, 'utf8').trim(), String(again.child.pid));
      assert.equal(await again.stop(), 0);
    }
    await first.cleanup();
  });

  it('SIGHUP reloads the config, and a bad one keeps the old settings', async () => {
    const gd = await startGuestd();
    writeGuestdConfig(gd.dir, 'unix_sock_rw_perms = "0770"');
    gd.child.kill('SIGHUP');
    await waitFor('the new socket mode', () => (statSync(gd.rwSocket).mode & 0o777) === 0o770);
    // the mode changes before the log line reaches our pipe: wait for the line too
    await waitFor('the reload in the log', () => /SIGHUP: unix_sock_rw_perms: 448 → 504/.test(gd.stderr()));
    writeFileSync(gd.configFile, readFileSync(gd.configFile, 'utf8') + 'unix_sock_rw_perms = "0700"\nno_such_key = 1\n');
    gd.child.kill('SIGHUP');
    await waitFor('the refusal in the log', () => /configuration not reloaded/.test(gd.stderr()));
    assert.match(gd.stderr(), new RegExp(`${gd.configFile.replace(/[.]/g, '\\.')}:\\d+: `));
    assert.equal(statSync(gd.rwSocket).mode & 0o777, 0o770, 'old settings stay');
    assert.equal((await virsh(gd.uri, 'list', '--all')).code, 0);
    await gd.cleanup();
  });

  it('SIGTERM leaves guests running and a restarted guestd controls them', async () => {
    const gd = await startGuestd();
    await defineAndStart(gd.uri, gd.dir, 'keep1');
    const pids = gd.guestPids();
    assert.ok(pids.length >= 1, 'a guest process runs');
    assert.equal(await gd.stop(), 0);
    assert.match(gd.stderr(), /running guests are left running/);
    for (const pid of pids) assert.ok(isAlive(pid), `guest ${pid} survives the daemon`);

    const again = await startGuestd({ dir: gd.dir });
    const list = await virsh(again.uri, 'list');
    assert.match(list.stdout, /\d+\s+keep1\s+running/);
    const d = await virsh(again.uri, 'destroy', 'keep1');
    assert.equal(d.code, 0, d.stderr);
    await waitFor('the guest process to end', () => pids.every((pid) => !isAlive(pid)));
    await again.cleanup();
  });

  it('-t exits when idle, but not while a guest runs', async () => {
    const idle = await startGuestd({ args: ['-t', '3'] });
    const t0 = Date.now();
    const code = await Promise.race([idle.exited, sleep(15_000).then(() => 'still running')]);
    assert.equal(code, 0, 'exited cleanly within 15 s');
    assert.ok(Date.now() - t0 >= 2000, 'not before the timeout');
    await idle.cleanup();

    const busy = await startGuestd({ args: ['-t', '3'] });
    await defineAndStart(busy.uri, busy.dir, 'busy1');
    await sleep(8000);
    assert.equal(busy.child.exitCode, null, 'still alive after 8 s with a running guest');
    assert.equal((await virsh(busy.uri, 'destroy', 'busy1')).code, 0);
    const after = await Promise.race([busy.exited, sleep(15_000).then(() => 'still running')]);
    assert.equal(after, 0, 'exits once the guest is gone');
    await busy.cleanup();
  });

  it('-d detaches, writes the PID file and serves', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'guestd-detach-'));
    const conf = writeGuestdConfig(dir);
    const p = guestdPaths(dir);
    try {
      const r = await guestd('-d', '-f', conf, '-p', p.pidFile);
      assert.equal(r.code, 0, r.stderr);
      const pid = Number(readFileSync(p.pidFile, 'utf8'));
      assert.ok(isAlive(pid));
      assert.ok(await canConnect(p.rwSocket));
      assert.equal((await virsh(`guest+unix:///system?socket=${p.rwSocket}`, 'list', '--all')).code, 0);
      process.kill(pid, 'SIGTERM');
      await waitFor('the detached daemon to exit', () => !isAlive(pid));
    } finally {
      await killProcessesMentioning(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('listens on sockets passed by systemd (socket activation), and refuses -l with them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'guestd-sa-'));
    const conf = writeGuestdConfig(dir);
    const p = guestdPaths(dir);
    const sockA = path.join(dir, 'act-sock');
    const sockB = path.join(dir, 'act-sock-ro');
    const activate = (extra: string[]) =>
      spawn(
        'systemd-socket-activate',
        ['-l', sockA, '-l', sockB, '--fdname=guestd.socket:guestd-ro.socket', process.execPath, ...programArgs('src/daemon/main.ts'), '-f', conf, '-p', p.pidFile, ...extra],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    try {
      const child = activate([]);
      await waitForSocket(sockA, 10_000);
      const r = await virsh(`guest+unix:///system?socket=${sockA}`, 'list', '--all');
      assert.equal(r.code, 0, r.stderr);
      const ro = await virsh(`guest+unix:///system?socket=${sockB}`, 'define', '/dev/null');
      assert.equal(ro.code, 1);
      assert.throws(() => statSync(p.rwSocket), /ENOENT/, 'no socket of its own when activated');
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));

      const refused = activate(['-l']);
      let err = '';
      refused.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await waitForSocket(sockA, 10_000);
      await canConnect(sockA); // the first connection starts it
      const code = await new Promise((r) => refused.once('exit', r));
      assert.notEqual(code, 0);
      assert.match(err, /--listen cannot be used with systemd socket activation/);
    } finally {
      await killProcessesMentioning(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
