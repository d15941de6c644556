// libvirt's QEMU-driver restart race, replayed on real guestd processes: a guest whose process dies while the
// daemon is down must come back as "shut off" when persistent and be gone when transient, every time; and guests
// survive a kill -9 of the daemon and are controllable by the next one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupAllGuestd, isAlive, startGuestd, waitFor } from '../../helpers/guestd.js';
import { ok } from '../../helpers/guests.js';
import { guestXml, virsh } from '../../helpers/virsh.js';

after(cleanupAllGuestd);

/** pid of a running guest, from the runtime status guestd keeps */
async function guestPid(name: string, before: Set<number>, pids: () => number[]): Promise<number> {
  return (await waitFor(`the process of ${name}`, () => pids().find((p) => !before.has(p)), 10_000))!;
}

test('20 times: guest processes killed while guestd is down → persistent shut off, transient gone, nothing lost', async () => {
  let gd = await startGuestd();
  const dir = gd.dir;
  writeFileSync(path.join(dir, 'p.xml'), guestXml('persist', { 'shutdown-seconds': 0 }));
  writeFileSync(path.join(dir, 't.xml'), guestXml('trans', { 'shutdown-seconds': 0 }));
  await ok(virsh(gd.uri, 'define', path.join(dir, 'p.xml')), 'define');
  for (let round = 1; round <= 20; round++) {
    const known = new Set(gd.guestPids());
    await ok(virsh(gd.uri, 'start', 'persist'), `round ${round}: start`);
    const persistPid = await guestPid('persist', known, gd.guestPids);
    known.add(persistPid);
    await ok(virsh(gd.uri, 'create', path.join(dir, 't.xml')), `round ${round}: create`);
    const transPid = await guestPid('trans', known, gd.guestPids);

    assert.equal(await gd.stop(), 0, `round ${round}: guestd exits cleanly on SIGTERM`);
    assert.ok(isAlive(persistPid) && isAlive(transPid), `round ${round}: guests outlive the daemon`);
    process.kill(persistPid, 'SIGKILL');
    process.kill(transPid, 'SIGKILL');
    await waitFor('the guests to die', () => !isAlive(persistPid) && !isAlive(transPid));

    gd = await startGuestd({ dir });
    const list = await ok(virsh(gd.uri, 'list', '--all'), `round ${round}: list`);
    assert.match(list, /-\s+persist\s+shut off/, `round ${round}: the persistent guest is listed shut off`);
    assert.doesNotMatch(list, /trans/, `round ${round}: the transient guest is gone`);
  }
});

test('guests survive a kill -9 of guestd and the next guestd controls them', async () => {
  const gd = await startGuestd();
  writeFileSync(path.join(gd.dir, 'a.xml'), guestXml('survivor', { 'shutdown-seconds': 0 }));
  await ok(virsh(gd.uri, 'define', path.join(gd.dir, 'a.xml')), 'define');
  await ok(virsh(gd.uri, 'start', 'survivor'), 'start');
  const pid = await guestPid('survivor', new Set(), gd.guestPids);
  gd.child.kill('SIGKILL');
  await gd.exited;
  assert.ok(isAlive(pid), 'the guest outlives kill -9 of the daemon');

  const next = await startGuestd({ dir: gd.dir });
  assert.match(await ok(virsh(next.uri, 'list'), 'list'), /\d+\s+survivor\s+running/);
  await ok(virsh(next.uri, 'managedsave', 'survivor'), 'managedsave after the restart');
  await waitFor('the guest process to end after its save', () => !isAlive(pid));
  await ok(virsh(next.uri, 'start', 'survivor'), 'restore');
  assert.match(await ok(virsh(next.uri, 'domstate', '--reason', 'survivor'), 'domstate'), /running \(restored\)/);
});

test('SIGTERM ends guestd while clients are connected (their connections are closed, guests left running)', { timeout: 30_000 }, async () => {
  const gd = await startGuestd();
  writeFileSync(path.join(gd.dir, 'c.xml'), guestXml('connected', { 'shutdown-seconds': 0 }));
  await ok(virsh(gd.uri, 'define', path.join(gd.dir, 'c.xml')), 'define');
  await ok(virsh(gd.uri, 'start', 'connected'), 'start');
  const pid = await guestPid('connected', new Set(), gd.guestPids);
  const { openConnection } = await import('../../../src/connect/index.js');
  const conn = await openConnection(gd.uri);
  assert.equal((await conn.listGuests()).length, 1);
  assert.equal(await gd.stop(), 0, 'exit status 0 with a client connected');
  await assert.rejects(conn.listGuests(), 'the connection was closed by the daemon');
  assert.ok(isAlive(pid), 'the guest keeps running');
  await conn.close().catch(() => undefined);
});

test('kill -9 of guestd while a guest is being restored: afterwards exactly one process runs it, from its image', { timeout: 60_000 }, async () => {
  const gd = await startGuestd();
  writeFileSync(path.join(gd.dir, 'r.xml'), guestXml('restoring', { 'shutdown-seconds': 0 }, 256));
  await ok(virsh(gd.uri, 'define', path.join(gd.dir, 'r.xml')), 'define');
  await ok(virsh(gd.uri, 'start', 'restoring'), 'start');
  await ok(virsh(gd.uri, 'managedsave', 'restoring'), 'managedsave');
  await waitFor('the saved guest to exit', () => gd.guestPids().length === 0);
  const starting = virsh(gd.uri, 'start', 'restoring');
  const runtimes = (): number[] => gd.guestPids().filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('guest/main'));
  const pid = await guestPid('restoring', new Set(), runtimes); // spawned, still reading its image
  gd.child.kill('SIGKILL');
  await gd.exited;
  await starting;

  const next = await startGuestd({ dir: gd.dir });
  const state = (await ok(virsh(next.uri, 'domstate', '--reason', 'restoring'), 'domstate')).trim();
  if (!/^running/.test(state)) {
    assert.equal(state, 'shut off (saved)', 'not running: then still saved, its image kept');
    await ok(virsh(next.uri, 'start', 'restoring'), 'start again');
  }
  assert.equal(runtimes().length, 1, `one process runs the guest (the first one, ${pid}, alive: ${isAlive(pid)})`);
  assert.match(await ok(virsh(next.uri, 'domstate', '--reason', 'restoring'), 'domstate'), /running \(restored\)/);
  assert.match(await ok(virsh(next.uri, 'dominfo', 'restoring'), 'dominfo'), /Managed save:\s+no/, 'the image it runs from is gone');
});

