// The restart rule (DESIGN §4, libvirt-guests.md §6): configs first, then runtime status; reconnect only to a live
// pid that is the same process; a persistent guest whose process died while the daemon was down is shut off, a
// transient one is gone; a persistent domain is never lost.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProcessDriver } from '../../../src/driver/process/driver.js';
import { processStartTime, processStat } from '../../../src/effects/processes.js';
import { readImage } from '../../../src/guest/image.js';
import { unrelated, zombie } from '../../helpers/processes.js';
import { Bed, domainXML, waitFor } from './helpers.js';

function kill9(pid: number): void {
  process.kill(pid, 'SIGKILL');
}
const alive = (pid: number): boolean => processStartTime(pid) !== null;

describe('process driver: daemon restarts', () => {
  let bed: Bed;
  before(() => {
    bed = new Bed();
  });
  after(async () => bed.cleanup());

  it('20 times: guest killed while the driver is down → persistent shut off, transient gone, nothing lost', async () => {
    let d: ProcessDriver = await bed.driver();
    const p = await d.defineXML(domainXML('persist'));
    const keep = await d.defineXML(domainXML('idle')); // never started: must survive every round too
    for (let round = 0; round < 20; round++) {
      const [, t] = await Promise.all([d.create(p.uuid, {}), d.createXML(domainXML(`trans${round}`), {})]);
      const pids = [bed.status('persist').pid, bed.status(`trans${round}`).pid];
      await bed.closeDriver(d); // the daemon stops; guests keep running
      assert.ok(pids.every(alive), `round ${round}: guests outlive the driver`);
      for (const pid of pids) kill9(pid);
      await waitFor('guests dead', () => !pids.some(alive));
      d = await bed.driver();
      const rec = d.lookupByUuid(p.uuid);
      assert.equal(rec.state, 'shutoff', `round ${round}`);
      assert.equal(rec.persistent, true);
      assert.equal(rec.id, -1);
      assert.equal(d.lookupByUuid(keep.uuid).state, 'shutoff');
      assert.throws(() => d.lookupByUuid(t.uuid), /Domain not found/, `round ${round}: transient gone`);
      assert.ok(!existsSync(join(bed.runDir, 'domains', 'persist.json')), 'stale runtime status removed');
      assert.deepEqual(
        d.list().map((r) => r.name).sort(),
        ['idle', 'persist'],
      );
    }
    await bed.closeDriver(d);
  });

  it('a guest keeps running through driver close + new init, and is controllable afterwards', async () => {
    let d = await bed.driver();
    const p = await d.defineXML(domainXML('survivor'));
    const first = await d.create(p.uuid, {});
    const t = await d.createXML(domainXML('trans-survivor'), {});
    const pid = bed.status('survivor').pid;
    await bed.closeDriver(d);
    d = await bed.driver();
    const rec = d.lookupByUuid(p.uuid);
    assert.equal(rec.state, 'running');
    assert.equal(rec.id, first.id, 'same id after reconnect');
    assert.equal(bed.status('survivor').pid, pid);
    assert.equal(d.lookupByUuid(t.uuid).persistent, false);
    assert.equal(d.lookupByUuid(t.uuid).state, 'running');
    const next = await d.createXML(domainXML('after-restart'), {});
    assert.ok(next.id > Math.max(first.id, t.id), 'ids keep increasing after a restart');
    await d.setTime(p.uuid, { sync: true });
    const n = bed.events.length;
    await d.shutdown(p.uuid);
    await waitFor('shutoff', () => d.lookupByUuid(p.uuid).state === 'shutoff');
    assert.deepEqual(
      bed.events.slice(n).map((e) => [e.event, e.detail]),
      [
        [6, 0],
        [5, 0],
      ],
    );
    await d.destroy(t.uuid, {});
    await d.destroy(next.uuid, {});
    assert.ok(!alive(pid));
    await bed.closeDriver(d);
  });

  it('a guest that dies while the driver runs is noticed (stopped, failed)', async () => {
    const d = await bed.driver();
    const p = await d.defineXML(domainXML('crasher'));
    await d.create(p.uuid, {});
    const n = bed.events.length;
    kill9(bed.status('crasher').pid);
    await waitFor('noticed', () => d.lookupByUuid(p.uuid).state === 'shutoff');
    assert.equal(d.lookupByUuid(p.uuid).reason, 6);
    assert.deepEqual(bed.events.slice(n).map((e) => [e.event, e.detail]), [[5, 5]]);
    await bed.closeDriver(d);
  });

  it('a reused pid (same number, another process) is not reconnected and not signalled', async () => {
    let d = await bed.driver();
    const p = await d.defineXML(domainXML('reused'));
    await d.create(p.uuid, {});
    const statusFile = join(bed.runDir, 'domains', 'reused.json');
    const real = bed.status('reused');
    await bed.closeDriver(d);
    kill9(real.pid);
    await waitFor('dead', () => !alive(real.pid));
    // pretend the pid now belongs to this test process: alive, but started at another time
    const fake = { ...real, pid: process.pid };
    writeFileSync(statusFile, JSON.stringify(fake));
    d = await bed.driver();
    assert.equal(d.lookupByUuid(p.uuid).state, 'shutoff');
    assert.ok(!existsSync(statusFile));
    // and a status with pid 0 is never "reconnected"
    writeFileSync(statusFile, JSON.stringify({ ...real, pid: 0 }));
    await bed.closeDriver(d);
    d = await bed.driver();
    assert.equal(d.lookupByUuid(p.uuid).state, 'shutoff');
    await bed.closeDriver(d);
  });

  it('an unreadable config is skipped and kept; the others load', async () => {
    let d = await bed.driver();
    await d.defineXML(domainXML('fine'));
    await bed.closeDriver(d);
    const bad = join(bed.stateDir, 'domains', 'broken.xml');
    writeFileSync(bad, '<domain type="process"><name>broken');
    d = await bed.driver();
    assert.equal(d.lookupByName('fine').state, 'shutoff');
    assert.ok(bed.logs.some((l) => l.includes('broken.xml') && l.includes('kept')));
    assert.equal(readFileSync(bad, 'utf8'), '<domain type="process"><name>broken');
    await bed.closeDriver(d);
    writeFileSync(join(bed.runDir, 'domains', 'junk.json'), '{not json');
    d = await bed.driver();
    assert.ok(!existsSync(join(bed.runDir, 'domains', 'junk.json')));
    await bed.closeDriver(d);
  });

  it('partial images whose writer is gone are removed (free pid, zombie, pid now another process), and incoming migration leftovers', async () => {
    let d = await bed.driver();
    await d.defineXML(domainXML('parts'));
    await bed.closeDriver(d);
    const dead = await zombie();
    const other = unrelated();
    try {
      const parts = [2147483647, dead.pid, other.pid].map((pid) => join(bed.stateDir, 'save', `parts.save.part-${pid}`));
      // and what a migration in, interrupted by the daemon's end, left
      parts.push(...['.incoming', '.incoming.part', '.incoming.cancel'].map((ext) => join(bed.stateDir, 'save', `parts${ext}`)));
      for (const part of parts) writeFileSync(part, 'half');
      d = await bed.driver();
      assert.deepEqual(parts.filter((p) => existsSync(p)), []);
      assert.equal(d.lookupByName('parts').hasManagedSave, false);
      await bed.closeDriver(d);
    } finally {
      dead.release();
      other.release();
    }
  });

  it('a zombie with the recorded pid and start time is not taken for the guest', async () => {
    let d = await bed.driver();
    const rec = await d.defineXML(domainXML('undead'));
    await d.create(rec.uuid, {});
    const real = bed.status('undead');
    await bed.closeDriver(d);
    kill9(real.pid);
    await waitFor('dead', () => !alive(real.pid));
    const dead = await zombie();
    try {
      const startTime = processStat(dead.pid)!.startTime; // the zombie's own: only its state says it ended
      writeFileSync(join(bed.runDir, 'domains', 'undead.json'), JSON.stringify({ ...real, pid: dead.pid, startTime }));
      d = await bed.driver();
      assert.deepEqual([d.lookupByUuid(rec.uuid).state, d.lookupByUuid(rec.uuid).id], ['shutoff', -1]);
      assert.ok(!existsSync(join(bed.runDir, 'domains', 'undead.json')));
      await bed.closeDriver(d);
    } finally {
      dead.release();
    }
  });

  it('a save still running when the daemon comes back is adopted: its job shows, and it ends saved', async () => {
    let d = await bed.driver();
    const rec = await d.defineXML(domainXML('midsave', { memory: '32', behavior: { 'save-mib-per-second': 16 } }));
    await d.create(rec.uuid, {});
    const before = await bed.monitor('midsave').then(async (m) => (await m.call('query-state').finally(() => m.close())).counter);
    const save = d.managedSave(rec.uuid, {}).catch((err: unknown) => err);
    await waitFor('save progress', () => (d.jobStats(rec.uuid).dataProcessed ?? 0) > 2 << 20);
    await bed.closeDriver(d); // the daemon goes away mid-save
    await save;
    d = await bed.driver();
    const job = d.jobStats(rec.uuid);
    assert.equal(job.type, 'bounded', 'the running save is visible to the new daemon (libvirt-guests start waits on it)');
    assert.ok((job.dataProcessed ?? 0) > 2 << 20 && (job.dataTotal ?? 0) > (job.dataProcessed ?? 0), JSON.stringify(job));
    await waitFor('the save to finish', () => d.lookupByUuid(rec.uuid).state === 'shutoff', 15_000);
    const r = d.lookupByUuid(rec.uuid);
    assert.deepEqual([r.reason, r.hasManagedSave], [5, true], 'shut off, saved, with its image');
    assert.deepEqual(d.jobStats(rec.uuid), { type: 'none' });
    const image = join(bed.stateDir, 'save', 'midsave.save');
    const img = await readImage(image, { uuid: rec.uuid, memoryBytes: 32 << 20 });
    assert.ok(img.facts.counter >= before);
    assert.deepEqual(readdirSync(join(bed.stateDir, 'save')), ['midsave.save']);
    await d.create(rec.uuid, {});
    const mon = await bed.monitor('midsave');
    assert.deepEqual((await mon.call('query-state')).restoredFrom, { counter: img.facts.counter, checksum: img.payloadSha });
    mon.close();
    await d.destroy(rec.uuid, {});
    await bed.closeDriver(d);
  });

  it('an adopted save that is aborted leaves the guest running and the job gone', async () => {
    let d = await bed.driver();
    const rec = await d.defineXML(domainXML('midabort', { memory: '32', behavior: { 'save-mib-per-second': 8 } }));
    await d.create(rec.uuid, {});
    const pid = bed.status('midabort').pid;
    const save = d.managedSave(rec.uuid, {}).catch((err: unknown) => err);
    await waitFor('save progress', () => (d.jobStats(rec.uuid).dataProcessed ?? 0) > 1 << 20);
    await bed.closeDriver(d);
    await save;
    d = await bed.driver();
    assert.equal(d.jobStats(rec.uuid).type, 'bounded');
    await d.abortJob(rec.uuid);
    await waitFor('the job to end', () => d.jobStats(rec.uuid).type === 'none');
    assert.equal(d.lookupByUuid(rec.uuid).state, 'running');
    assert.ok(alive(pid));
    assert.deepEqual(readdirSync(join(bed.stateDir, 'save')), []);
    await d.managedSave(rec.uuid, {}); // and it can be saved again
    assert.equal(d.lookupByUuid(rec.uuid).reason, 5);
    await d.managedSaveRemove(rec.uuid);
    await bed.closeDriver(d);
  });

  it('a daemon killed between a restore and the removal of its image: the next one removes the stale image', async () => {
    let d = await bed.driver();
    const rec = await d.defineXML(domainXML('rollback'));
    await d.create(rec.uuid, {});
    await d.managedSave(rec.uuid, {});
    const image = join(bed.stateDir, 'save', 'rollback.save');
    const bytes = readFileSync(image);
    await d.create(rec.uuid, {}); // restored; the image is removed
    await bed.closeDriver(d);
    writeFileSync(image, bytes); // as if the daemon had died before removing it
    d = await bed.driver();
    const r = d.lookupByUuid(rec.uuid);
    assert.deepEqual([r.state, r.hasManagedSave], ['running', false], 'restoring that image later would roll the guest back');
    assert.ok(!existsSync(image));
    await d.destroy(rec.uuid, {});
    assert.deepEqual([d.lookupByUuid(rec.uuid).reason, d.lookupByUuid(rec.uuid).hasManagedSave], [2, false]);
    await bed.closeDriver(d);
  });
});
