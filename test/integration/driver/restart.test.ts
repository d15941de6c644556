// The restart rule (DESIGN §4, libvirt-guests.md §6): configs first, then runtime status; reconnect only to a live
// pid that is the same process; a persistent guest whose process died while the daemon was down is shut off, a
// transient one is gone; a persistent domain is never lost.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProcessDriver } from '../../../src/driver/process/index.js';
import { readProcStat } from '../../../src/driver/process/proc.js';
import { Bed, domainXML, waitFor } from './helpers.js';

function kill9(pid: number): void {
  process.kill(pid, 'SIGKILL');
}
const alive = (pid: number): boolean => {
  const st = readProcStat(pid);
  return st !== null && st.state !== 'Z';
};

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
    await d.destroy(t.uuid);
    await d.destroy(next.uuid);
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
    // a partial image from a save interrupted by a crash is removed; a finished image is not
    const part = join(bed.stateDir, 'save', 'fine.save.part-2147483647');
    writeFileSync(part, 'half');
    writeFileSync(join(bed.runDir, 'domains', 'junk.json'), '{not json');
    d = await bed.driver();
    assert.ok(!existsSync(part));
    assert.ok(!existsSync(join(bed.runDir, 'domains', 'junk.json')));
    await bed.closeDriver(d);
  });
});
