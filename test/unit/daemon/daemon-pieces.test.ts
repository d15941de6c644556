// Pure pieces of guestd: options, paths, settings, socket activation, the idle rule, DN matching, list filters,
// job parameters, the PID file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_GUESTD_CONFIG } from '../../../src/config/guestd-conf.js';
import type { DomainRecord } from '../../../src/driver/driver.js';
import { UsageError } from '../../../src/errors.js';
import { startIdleTimer } from '../../../src/daemon/idle-timer.js';
import { dnAllowed } from '../../../src/daemon/listeners.js';
import { parseDaemonOptions } from '../../../src/daemon/options.js';
import { defaultPaths } from '../../../src/daemon/paths.js';
import { acquirePidFile } from '../../../src/daemon/pid-file.js';
import { matchesListFlags } from '../../../src/daemon/flags.js';
import { jobParams } from '../../../src/daemon/remote-handlers.js';
import { resolveSettings } from '../../../src/daemon/settings.js';
import { activatedSockets } from '../../../src/daemon/socket-activation.js';

describe('guestd options', () => {
  it('parses libvirtd(8) options', () => {
    const o = parseDaemonOptions(['-d', '-f', '/c', '-l', '-p', '/p', '-t', '30', '-v']);
    assert.deepEqual(o, { help: false, version: false, daemon: true, configFile: '/c', listen: true, pidFile: '/p', timeout: 30, verbose: true });
    assert.equal(parseDaemonOptions(['--timeout=0']).timeout, 0);
    assert.equal(parseDaemonOptions(['--version']).version, true);
  });
  it('rejects unknown options, positionals and bad timeouts as usage errors', () => {
    for (const argv of [['--nope'], ['extra'], ['-t', '-5'], ['-t', '1.5'], ['-f', '']]) {
      assert.throws(() => parseDaemonOptions(argv), UsageError, argv.join(' '));
    }
  });
});

describe('guestd paths', () => {
  it('uses system paths as root', () => {
    const p = defaultPaths(0, { HOME: '/root' });
    assert.equal(p.configFile, '/etc/guestd/guestd.conf');
    assert.equal(p.sockDir, '/run/guestd');
    assert.equal(p.pidFile, '/run/guestd.pid');
    assert.equal(p.stateDir, '/var/lib/guestd');
    assert.equal(p.certFile, '/etc/pki/guestd/servercert.pem');
  });
  it('uses XDG paths with their fallbacks as a user', () => {
    const p = defaultPaths(1000, { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' });
    assert.equal(p.configFile, '/home/u/.config/guestd/guestd.conf');
    assert.equal(p.sockDir, '/run/user/1000/guestd');
    assert.equal(p.pidFile, '/run/user/1000/guestd/guestd.pid');
    assert.equal(p.caFile, '/home/u/.pki/guestd/cacert.pem');
    const q = defaultPaths(1000, { HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' });
    assert.equal(q.configFile, '/cfg/guestd/guestd.conf');
    assert.equal(q.sockDir, '/home/u/.cache/guestd');
  });
  it('lets the config and the command line override them', () => {
    const s = resolveSettings(
      defaultPaths(0, {}),
      parseDaemonOptions(['-p', '/tmp/x.pid']),
      { ...DEFAULT_GUESTD_CONFIG, unixSockDir: '/tmp/s', stateDir: '/tmp/st', caFile: '/ca' },
    );
    assert.equal(s.sockets.rw, '/tmp/s/guestd-sock');
    assert.equal(s.sockets.ro, '/tmp/s/guestd-sock-ro');
    assert.equal(s.sockets.admin, '/tmp/s/guestd-admin-sock');
    assert.equal(s.pidFile, '/tmp/x.pid');
    assert.equal(s.stateDir, '/tmp/st');
    assert.equal(s.tls.caFile, '/ca');
    assert.equal(s.configExplicit, false);
  });
});

describe('socket activation', () => {
  it('reads LISTEN_* only when LISTEN_PID is ours', () => {
    const env = { LISTEN_PID: '42', LISTEN_FDS: '3', LISTEN_FDNAMES: 'guestd.socket:guestd-ro.socket:guestd-admin.socket' };
    assert.equal(activatedSockets(env, 41), null);
    assert.deepEqual(activatedSockets(env, 42), [
      { fd: 3, name: 'guestd.socket', role: 'rw' },
      { fd: 4, name: 'guestd-ro.socket', role: 'ro' },
      { fd: 5, name: 'guestd-admin.socket', role: 'admin' },
    ]);
    assert.throws(() => activatedSockets({ LISTEN_PID: '1', LISTEN_FDS: '1', LISTEN_FDNAMES: 'web.socket' }, 1), /unknown name 'web.socket'/);
  });
});

describe('idle timeout', () => {
  it('fires only after the whole period with no client and no running guest', () => {
    let now = 0;
    let tick: () => void = () => undefined;
    let clients = 0;
    let running = false;
    let fired = 0;
    startIdleTimer(5, { clients: () => clients, runningGuests: () => running }, () => fired++, {
      now: () => now,
      every: (_ms, fn) => ((tick = fn), () => undefined),
    });
    const advance = (ms: number): void => {
      for (let i = 0; i < ms / 1000; i++) {
        now += 1000;
        tick();
      }
    };
    advance(3000);
    running = true;
    advance(10_000);
    assert.equal(fired, 0, 'not while a guest runs');
    running = false;
    clients = 1;
    advance(10_000);
    assert.equal(fired, 0, 'not while a client is connected');
    clients = 0;
    advance(4000);
    assert.equal(fired, 0, 'the period restarts when it becomes idle');
    advance(2000); // idleness is noticed at the first check, up to one interval late
    assert.equal(fired, 1);
    advance(10_000);
    assert.equal(fired, 1, 'fires once');
  });
});

describe('TLS DN allow list', () => {
  it('matches globs against either RDN order', () => {
    const rdns = ['C=GB', 'O=Example', 'CN=admin'];
    assert.ok(dnAllowed(rdns, ['C=GB,O=Example,CN=admin']));
    assert.ok(dnAllowed(rdns, ['CN=admin,O=Example,C=GB']));
    assert.ok(dnAllowed(rdns, ['C=GB,O=Example,CN=*']));
    assert.ok(!dnAllowed(rdns, ['C=GB,O=Example,CN=other']));
    assert.ok(!dnAllowed(rdns, []));
    assert.ok(!dnAllowed(rdns, ['C=GB.O=Example,CN=admin']), 'dots are literal');
  });
});

describe('CONNECT_LIST_ALL_DOMAINS filter', () => {
  const dom = (over: Partial<DomainRecord>): DomainRecord => ({
    uuid: 'u', name: 'n', id: 1, persistent: true, state: 'running', reason: 1, autostart: false, hasManagedSave: false,
    maxMemKiB: 1, memoryKiB: 1, vcpus: 1, cpuTimeNs: 0n, osType: 'exe', ...over,
  });
  it('applies each flag group', () => {
    const running = dom({});
    const saved = dom({ id: -1, state: 'shutoff', hasManagedSave: true });
    const transient = dom({ persistent: false });
    assert.ok(matchesListFlags(running, 0));
    assert.ok(matchesListFlags(running, 1) && !matchesListFlags(saved, 1));
    assert.ok(matchesListFlags(saved, 3) && matchesListFlags(running, 3));
    assert.ok(matchesListFlags(running, 5) && !matchesListFlags(transient, 5));
    assert.ok(matchesListFlags(transient, 9) && !matchesListFlags(running, 9));
    assert.ok(matchesListFlags(saved, 256) && !matchesListFlags(running, 256));
    assert.ok(matchesListFlags(saved, 64) && !matchesListFlags(running, 64));
    assert.ok(!matchesListFlags(running, 4096), 'HAS_SNAPSHOT: no guest has snapshots');
    assert.ok(matchesListFlags(running, 8192) && matchesListFlags(running, 4096 | 8192), 'NO_SNAPSHOT, or either');
    assert.ok(!matchesListFlags(running, 16384), 'HAS_CHECKPOINT: no guest has checkpoints');
    assert.ok(matchesListFlags(running, 32768) && matchesListFlags(running, 16384 | 32768), 'NO_CHECKPOINT, or either');
  });
  it('reports job progress as typed params', () => {
    assert.deepEqual(jobParams({ type: 'none' }), []);
    const params = jobParams({ type: 'bounded', dataTotal: 10, dataProcessed: 4, dataRemaining: 6, timeElapsedMs: 7 });
    const fields = Object.fromEntries(params.map((p) => [p.field, p.value.value]));
    assert.equal(fields.data_processed, 4n);
    assert.equal(fields.data_remaining, 6n);
    assert.equal(fields.time_elapsed, 7n);
  });
});

describe('PID file', () => {
  it('is created with our pid, removed on release, and a stale one is taken over', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'guestd-pid-'));
    const file = path.join(dir, 'sub', 'guestd.pid');
    const h = acquirePidFile(file);
    assert.equal(readFileSync(file, 'utf8'), `${process.pid}\n`);
    h.release();
    writeFileSync(file, `${spawnSync('true').pid}\n`);
    const again = acquirePidFile(file);
    assert.equal(readFileSync(file, 'utf8'), `${process.pid}\n`);
    again.release();
  });
});
