// guestd's REMOTE service (handlers, guards, events) over a real unix socket with a fake driver: real virsh and
// raw calls. The real daemon and driver are covered by the other tests of test/integration/daemon.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { RpcService } from '../../../src/daemon/daemon.js';
import { createLogger } from '../../../src/daemon/log.js';
import { createRemoteService } from '../../../src/daemon/remote-service.js';
import { PROCEDURES } from '../../../src/remote/procedures.js';
import { FakeDriver } from '../../helpers/fake-driver.js';
import { errorOf, RawClient } from '../../helpers/raw-rpc.js';

const run = promisify(execFile);
const PROCEDURE_CONNECT_GET_TYPE = 3;
const UUID_A = '11111111-2222-3333-4444-555555555555';
const UUID_B = '66666666-7777-4888-9999-aaaaaaaaaaaa';

describe('guestd REMOTE service', () => {
  let dir: string;
  let driver: FakeDriver;
  let service: RpcService;
  const servers: net.Server[] = [];
  let rw: string;
  let ro: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'guestd-svc-'));
    driver = new FakeDriver();
    driver.add('alpha', UUID_A, true);
    driver.add('beta', UUID_B, false);
    service = createRemoteService(driver, createLogger(4));
    rw = path.join(dir, 'rw');
    ro = path.join(dir, 'ro');
    for (const [p, readonly] of [
      [rw, false],
      [ro, true],
    ] as const) {
      const server = net.createServer((s) => service.accept(s, { readonly, role: readonly ? 'ro' : 'rw' }));
      await new Promise<void>((r) => server.listen(p, r));
      servers.push(server);
    }
  });
  after(async () => {
    await service.close();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  const virsh = async (socket: string, ...args: string[]) => {
    try {
      const r = await run('virsh', ['-c', `guest+unix:///system?socket=${socket}`, ...args], { timeout: 20_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('serves virsh list --all, dominfo, domstate', async () => {
    const list = await virsh(rw, 'list', '--all');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /1\s+alpha\s+running/);
    assert.match(list.stdout, /-\s+beta\s+shut off/);
    const uuids = await virsh(rw, 'list', '--uuid');
    assert.equal(uuids.stdout.trim(), UUID_A);
    const info = await virsh(rw, 'dominfo', 'alpha');
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /OS Type:\s+hvm/);
    assert.match(info.stdout, /Max memory:\s+65536 KiB/);
    assert.match(info.stdout, /Managed save:\s+no/);
    assert.equal((await virsh(rw, 'domstate', 'beta')).stdout.trim(), 'shut off');
    const missing = await virsh(rw, 'dominfo', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /failed to get domain 'nope'/);
  });

  it('starts, saves, reports jobs and syncs time through virsh', async () => {
    assert.equal((await virsh(rw, 'start', 'beta')).code, 0);
    assert.equal(driver.lookupByName('beta').state, 'running');
    driver.job = { type: 'bounded', dataTotal: 8 << 20, dataProcessed: 2 << 20, dataRemaining: 6 << 20, timeElapsedMs: 1500 };
    const job = await virsh(rw, 'domjobinfo', 'beta');
    assert.equal(job.code, 0, job.stderr);
    assert.match(job.stdout, /Job type:\s+Bounded/);
    assert.match(job.stdout, /Data processed:\s+2\.000 MiB/);
    driver.job = { type: 'none' };
    const save = await virsh(rw, 'managedsave', '--bypass-cache', 'beta');
    assert.equal(save.code, 0, save.stderr);
    assert.match(save.stdout, /Domain 'beta' state saved by libvirt/);
    assert.match((await virsh(rw, 'dominfo', 'beta')).stdout, /Managed save:\s+yes/);
    assert.equal((await virsh(rw, 'domtime', '--sync', 'alpha')).code, 0);
    assert.ok(driver.calls.includes('managedsave beta bypass'));
    assert.ok(driver.calls.includes('settime alpha sync'));
  });

  it('answers a call before CONNECT_OPEN with 1/7 "hypervisor connection not open"', async () => {
    const c = await RawClient.connect(rw);
    try {
      const reply = await c.call(273, Buffer.from('0000000100000003', 'hex'));
      assert.equal(reply.header.status, 1);
      const e = errorOf(reply);
      assert.deepEqual([e.code, e.domain], [1, 7]);
      assert.match(e.message ?? '', /hypervisor connection not open/);
    } finally {
      c.close();
    }
  });

  it('answers unknown and unimplemented procedures without dropping the connection', async () => {
    const c = await RawClient.connect(rw);
    try {
      await c.open();
      const unknown = errorOf(await c.call(9999));
      assert.deepEqual([unknown.code, unknown.domain, unknown.message], [39, 7, 'unknown procedure: 9999']);
      const unimplemented = errorOf(await c.call(122));
      assert.equal(unimplemented.code, 3);
      const garbage = errorOf(await c.call(23, Buffer.from('ffffffff', 'hex')));
      assert.equal(garbage.code, 39);
      const ok = await c.call(51);
      assert.equal(ok.header.status, 0);
    } finally {
      c.close();
    }
  });

  it('refuses every mutating procedure on the read-only socket before decoding, and allows reads', async () => {
    const mutating = PROCEDURES.filter((p) => !p.readonly);
    assert.ok(mutating.length > 100, 'the procedure table classifies mutating procedures');
    const c = await RawClient.connect(ro);
    try {
      await c.open();
      for (const p of mutating) {
        for (const body of [Buffer.alloc(0), Buffer.from('deadbeef', 'hex')]) {
          const reply = await c.call(p.number, body);
          assert.equal(reply.header.status, 1, `${p.name} must be refused`);
          const e = errorOf(reply);
          assert.equal(e.code, 29, `${p.name}: ${e.message}`);
          assert.match(e.message ?? '', /read only/);
        }
      }
      const list = await c.call(273, Buffer.from('0000000100000003', 'hex'));
      assert.equal(list.header.status, 0);
    } finally {
      c.close();
    }
    const denied = await virsh(ro, 'destroy', 'alpha');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /read only/);
    assert.equal(driver.lookupByName('alpha').state, 'running');
  });

  /** a call answered on each connection: an event sent before it arrives before its reply (one ordered stream) */
  const flushed = (...clients: RawClient[]) => Promise.all(clients.map((c) => c.call(PROCEDURE_CONNECT_GET_TYPE)));

  it('delivers lifecycle events to registered callbacks only', async () => {
    const watcher = await RawClient.connect(rw);
    const other = await RawClient.connect(rw);
    try {
      await watcher.open();
      await other.open();
      const reg = await watcher.call(316, Buffer.from('0000000000000000', 'hex'));
      assert.equal(reg.header.status, 0);
      const callbackId = reg.body.readInt32BE(0);
      await driver.destroy(UUID_A);
      await flushed(watcher, other);
      assert.equal(watcher.events.length, 1);
      assert.equal(watcher.events[0]!.header.proc, 318);
      assert.equal(watcher.events[0]!.body.readInt32BE(0), callbackId);
      assert.equal(other.events.length, 0);
      const dereg = Buffer.alloc(4);
      dereg.writeInt32BE(callbackId);
      assert.equal((await watcher.call(317, dereg)).header.status, 0);
      await driver.create(UUID_A, {});
      await flushed(watcher);
      assert.equal(watcher.events.length, 1);
    } finally {
      watcher.close();
      other.close();
    }
  });
});
