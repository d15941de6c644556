import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LibvirtError, VirErr } from '../../../src/libvirt/error.js';
import type { ProcessDriver } from '../../../src/driver/process/driver.js';
import { BLOCK, decodeHeader } from '../../../src/guest/image.js';
import { Bed, domainXML, sleep, waitFor } from './helpers.js';

const isVir = (code: number, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof LibvirtError, `expected LibvirtError, got ${String(err)}`);
  assert.equal(err.virCode, code, err.message);
  if (re) assert.match(err.message, re);
  return true;
};

function directSupported(dir: string): boolean {
  const probe = join(dir, 'odirect-probe');
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT, 0o600));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** what the image file holds, read independently of the runtime */
function imageFacts(file: string): { counter: number; memorySha: string; guestTimeNs: bigint } {
  const bytes = readFileSync(file);
  const facts = decodeHeader(bytes.subarray(0, BLOCK), file);
  return {
    counter: facts.counter,
    memorySha: sha(bytes.subarray(BLOCK, BLOCK + facts.memoryBytes)),
    guestTimeNs: BigInt(facts.guestTimeNs),
  };
}

describe('process driver: managed save and restore', () => {
  let bed: Bed;
  let d: ProcessDriver;
  before(async () => {
    bed = new Bed();
    d = await bed.driver();
  });
  after(async () => bed.cleanup());

  it('a restored guest continues from the saved state; its clock is behind until sync', async () => {
    const rec = await d.defineXML(domainXML('cont', { memory: '16' }));
    await d.create(rec.uuid, {});
    await sleep(400); // let it run and change its memory
    const mon = await bed.monitor('cont');
    const before = await mon.call('query-state');
    mon.close();
    assert.ok(before.counter > 0);

    await d.managedSave(rec.uuid, {});
    const r = d.lookupByUuid(rec.uuid);
    assert.equal(r.state, 'shutoff');
    assert.equal(r.reason, 5);
    assert.equal(r.hasManagedSave, true);
    assert.deepEqual([bed.events.at(-1)?.event, bed.events.at(-1)?.detail], [5, 4]);
    const image = join(bed.stateDir, 'save', 'cont.save');
    const saved = imageFacts(image);
    assert.ok(saved.counter >= before.counter);
    assert.notEqual(saved.memorySha, sha(Buffer.alloc(16 << 20)), 'the image holds the changed memory');
    assert.deepEqual(readdirSync(join(bed.stateDir, 'save')), ['cont.save'], 'no temp files left');

    await sleep(1500); // time passes while the guest is saved
    const restored = await d.create(rec.uuid, {});
    assert.equal(restored.reason, 3);
    assert.deepEqual([bed.events.at(-1)?.event, bed.events.at(-1)?.detail], [2, 2]);
    assert.ok(!existsSync(image), 'the image is removed after a successful restore');
    assert.equal(d.lookupByUuid(rec.uuid).hasManagedSave, false);

    const mon2 = await bed.monitor('cont');
    const after1 = await mon2.call('query-state');
    assert.deepEqual(after1.restoredFrom, { counter: saved.counter, checksum: saved.memorySha });
    await sleep(300);
    const after2 = await mon2.call('query-state');
    mon2.close();
    assert.ok(after2.counter > saved.counter, 'the counter continues from the saved value');

    const behind = Date.now() / 1000 - Number((await d.getTime(rec.uuid)).seconds);
    assert.ok(behind >= 1.2, `guest clock should be behind by the saved time, is ${behind}s`);
    await d.setTime(rec.uuid, { sync: true });
    const synced = Date.now() / 1000 - Number((await d.getTime(rec.uuid)).seconds);
    assert.ok(Math.abs(synced) < 1.1, `synced clock off by ${synced}s`);
    await d.destroy(rec.uuid, {});
  });

  it('reports progress while saving 256 MiB', async () => {
    const rec = await d.defineXML(domainXML('big', { memory: '256', behavior: { 'save-mib-per-second': 512 } }));
    await d.create(rec.uuid, {});
    assert.deepEqual(d.jobStats(rec.uuid), { type: 'none' });
    const seen: number[] = [];
    const save = d.managedSave(rec.uuid, {});
    let done = false;
    void save.finally(() => (done = true));
    while (!done) {
      const j = d.jobStats(rec.uuid);
      if (j.type === 'bounded') {
        assert.equal(j.dataTotal, 256 * 1048576 + 2 * BLOCK);
        assert.equal((j.dataProcessed ?? 0) + (j.dataRemaining ?? 0), j.dataTotal);
        assert.ok((j.timeElapsedMs ?? -1) >= 0);
        seen.push(j.dataProcessed ?? 0);
      }
      await sleep(40);
    }
    await save;
    const distinct = [...new Set(seen)].filter((n) => n > 0 && n < 256 * 1048576);
    assert.ok(distinct.length >= 3, `expected several intermediate progress values, saw ${JSON.stringify(seen)}`);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      seen,
      'progress never goes back',
    );
    assert.equal(statSync(join(bed.stateDir, 'save', 'big.save')).size, 256 * 1048576 + 2 * BLOCK);
    await d.managedSaveRemove(rec.uuid);
    assert.equal(d.lookupByUuid(rec.uuid).hasManagedSave, false);
  });

  it('abort: the guest keeps running and no partial image remains', async () => {
    const rec = await d.defineXML(domainXML('abort', { memory: '64', behavior: { 'save-mib-per-second': 64 } }));
    await d.create(rec.uuid, {});
    const save = d.managedSave(rec.uuid, {});
    await waitFor('save progress', () => (d.jobStats(rec.uuid).dataProcessed ?? 0) > 4 << 20);
    await d.abortJob(rec.uuid);
    await assert.rejects(save, isVir(VirErr.OPERATION_ABORTED, /canceled by client/));
    assert.equal(d.lookupByUuid(rec.uuid).state, 'running');
    assert.equal(d.lookupByUuid(rec.uuid).hasManagedSave, false);
    assert.deepEqual(readdirSync(join(bed.stateDir, 'save')), []);
    assert.deepEqual(d.jobStats(rec.uuid), { type: 'none' });
    await assert.rejects(d.abortJob(rec.uuid), isVir(VirErr.OPERATION_INVALID, /no job/));
    const mon = await bed.monitor('abort');
    const c1 = (await mon.call('query-state')).counter;
    await sleep(300);
    assert.ok((await mon.call('query-state')).counter > c1, 'the guest runs on after the abort');
    mon.close();
    await d.shutdown(rec.uuid);
    await waitFor('shutoff', () => d.lookupByUuid(rec.uuid).state === 'shutoff');
  });

  it('destroy during a save leaves no partial image', async () => {
    const rec = await d.defineXML(domainXML('killsave', { memory: '64', behavior: { 'save-mib-per-second': 64 } }));
    await d.create(rec.uuid, {});
    const save = d.managedSave(rec.uuid, {});
    await waitFor('save progress', () => (d.jobStats(rec.uuid).dataProcessed ?? 0) > 4 << 20);
    const failed = assert.rejects(save, isVir(VirErr.OPERATION_FAILED)); // it fails while destroy still waits
    await d.destroy(rec.uuid, {});
    await failed;
    assert.equal(d.lookupByUuid(rec.uuid).reason, 2);
    assert.deepEqual(readdirSync(join(bed.stateDir, 'save')), []);
  });

  it('bypass-cache saves and restores with direct I/O', async () => {
    const rec = await d.defineXML(domainXML('direct', { memory: '32' }));
    await d.create(rec.uuid, {});
    await sleep(200);
    await d.managedSave(rec.uuid, { bypassCache: true });
    const line = bed.logs.find((l) => l.includes("'direct': saved"));
    // where the filesystem takes O_DIRECT, the runtime must use it; elsewhere it reports its fallback
    assert.match(line ?? '', directSupported(bed.stateDir) ? /\(o_direct\)/ : /\((dd-oflag-direct|buffered\+fsync)\)/);
    const saved = imageFacts(join(bed.stateDir, 'save', 'direct.save'));
    await d.create(rec.uuid, { bypassCache: true });
    const mon = await bed.monitor('direct');
    assert.deepEqual((await mon.call('query-state')).restoredFrom, { counter: saved.counter, checksum: saved.memorySha });
    mon.close();
    await d.destroy(rec.uuid, {});
  });

  for (const [what, damage, message] of [
    ['truncated', (f: string) => truncateSync(f, statSync(f).size - 5000), /truncated/],
    [
      'corrupted',
      (f: string) => {
        const b = readFileSync(f);
        b[BLOCK + 12345] = (b[BLOCK + 12345] ?? 0) ^ 0xff;
        writeFileSync(f, b);
      },
      /corrupted image: the memory checksum does not match/,
    ],
    ['foreign', (f: string) => writeFileSync(f, Buffer.alloc(3 * BLOCK, 7)), /not a guestd save image/],
  ] as const) {
    it(`a ${what} image: start fails clearly, image and domain kept; --force-boot boots fresh`, async () => {
      const name = `img-${what}`;
      const rec = await d.defineXML(domainXML(name, { memory: '8' }));
      await d.create(rec.uuid, {});
      await sleep(200);
      await d.managedSave(rec.uuid, {});
      const image = join(bed.stateDir, 'save', `${name}.save`);
      damage(image);
      const damaged = readFileSync(image);
      await assert.rejects(
        d.create(rec.uuid, {}),
        isVir(VirErr.OPERATION_FAILED, new RegExp(`cannot restore domain '${name}'.*${message.source}.*--force-boot`, 's')),
      );
      assert.ok(readFileSync(image).equals(damaged), 'the image is untouched');
      const r = d.lookupByUuid(rec.uuid);
      assert.equal(r.state, 'shutoff');
      assert.equal(r.hasManagedSave, true);
      assert.ok(!existsSync(join(bed.runDir, 'domains', `${name}.json`)));

      const fresh = await d.create(rec.uuid, { forceBoot: true });
      assert.equal(fresh.reason, 1);
      assert.ok(!existsSync(image));
      const mon = await bed.monitor(name);
      assert.equal((await mon.call('query-state')).restoredFrom, null);
      mon.close();
      await d.destroy(rec.uuid, {});
    });
  }

  it('undefine refuses while a managed save exists unless asked to remove it', async () => {
    const rec = await d.defineXML(domainXML('undef', { memory: '4' }));
    await d.create(rec.uuid, {});
    await d.managedSave(rec.uuid, {});
    await assert.rejects(d.undefine(rec.uuid, {}), isVir(VirErr.OPERATION_INVALID, /managed save image exists/));
    assert.equal(d.lookupByUuid(rec.uuid).name, 'undef');
    await d.undefine(rec.uuid, { managedSave: true });
    assert.ok(!existsSync(join(bed.stateDir, 'save', 'undef.save')));
    assert.ok(!existsSync(join(bed.stateDir, 'domains', 'undef.xml')));
    assert.throws(() => d.lookupByUuid(rec.uuid), isVir(VirErr.NO_DOMAIN));
    assert.deepEqual([bed.events.at(-1)?.event, bed.events.at(-1)?.detail], [1, 0]);
  });
});
