// The process driver's config files: group commit (every write durable and in place once answered, a name's
// operations in order, failures reported to their own callers only) and the index of parsed definitions.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigFiles } from '../../../src/driver/process/config-files.js';
import { formatDomainXML, parseDomainXML, type DomainDef } from '../../../src/driver/process/xml/domain.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function files(): { dir: string; index: string; cf: ConfigFiles } {
  const root = mkdtempSync(path.join(tmpdir(), 'config-files-'));
  dirs.push(root);
  const dir = path.join(root, 'domains');
  mkdirSync(dir);
  const index = path.join(root, 'domains.index.json');
  return { dir, index, cf: new ConfigFiles(dir, index, (name) => path.join(dir, `${name}.xml`)) };
}

const def = (name: string, mib = 4): DomainDef =>
  parseDomainXML(`<domain type='process'><name>${name}</name><memory unit='MiB'>${mib}</memory></domain>`);
const write = (cf: ConfigFiles, d: DomainDef): Promise<void> => cf.write(d.name, formatDomainXML(d), d);

describe('config files: group commit', () => {
  it('200 concurrent writes: each in place with its content once answered, no temp file left', async () => {
    const { dir, cf } = files();
    const defs = Array.from({ length: 200 }, (_, i) => def(`g${i}`, 1 + (i % 7)));
    await Promise.all(defs.map((d) => write(cf, d)));
    assert.equal(readdirSync(dir).length, 200);
    for (const d of defs) assert.equal(readFileSync(path.join(dir, `${d.name}.xml`), 'utf8'), formatDomainXML(d));
  });

  it("a name's operations reach the disk in the order asked: write, remove, write again, remove", async () => {
    const { dir, cf } = files();
    const a = def('a', 1);
    const b = def('a', 2);
    const file = path.join(dir, 'a.xml');
    // many other names keep commits under way, so the operations on 'a' fall into different batches
    const others = Array.from({ length: 50 }, (_, i) => write(cf, def(`o${i}`)));
    const ops = [write(cf, a), cf.remove('a'), write(cf, b)];
    await Promise.all([...ops, ...others]);
    assert.equal(readFileSync(file, 'utf8'), formatDomainXML(b));
    await Promise.all([write(cf, a), cf.remove('a'), ...Array.from({ length: 20 }, (_, i) => write(cf, def(`p${i}`)))]);
    assert.equal(existsSync(file), false, 'the remove asked last wins');
  });

  it('a write that fails is refused to its caller only; the others of its batch are committed', async () => {
    const { dir, cf } = files();
    writeFileSync(path.join(dir, 'ok0.xml'), 'old');
    mkdirSync(path.join(dir, 'blocked.xml')); // the rename of 'blocked' onto a directory fails, nothing else does
    const ok0 = def('ok0');
    const results = await Promise.allSettled([write(cf, ok0), write(cf, def('blocked')), write(cf, def('ok1'))]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    // which config, which file, why, and where to look
    assert.match(
      String((results[1] as PromiseRejectedResult).reason),
      /cannot write the config of domain 'blocked' \(.*blocked\.xml\): .*; check the free space and the permissions of .*domains$/,
    );
    assert.equal(results[2].status, 'fulfilled');
    assert.equal(readFileSync(path.join(dir, 'ok0.xml'), 'utf8'), formatDomainXML(ok0));
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'the failed temp file is gone');
  });

  it('scan returns the configs and removes the temp files of an interrupted commit', () => {
    const { dir, cf } = files();
    writeFileSync(path.join(dir, 'x.xml'), '<x/>');
    writeFileSync(path.join(dir, 'y.xml.tmp-123-4'), 'half');
    assert.deepEqual(
      cf.scan().map((c) => [c.name, c.xml]),
      [['x', '<x/>']],
    );
    assert.deepEqual(readdirSync(dir), ['x.xml']);
  });
});

describe('config files: the index', () => {
  it('holds what was committed, written at stop; a fresh start takes the definitions of unchanged files from it', async () => {
    const { dir, index, cf } = files();
    const defs = [def('i1'), def('i2', 8), def('i3'), def('i4')];
    await Promise.all(defs.map((d) => write(cf, d)));
    await cf.remove('i1');
    cf.flushIndex();
    assert.deepEqual([...cf.readIndex().keys()].sort(), ['i2', 'i3', 'i4']);
    const fresh = (): ConfigFiles => new ConfigFiles(dir, index, (name) => path.join(dir, `${name}.xml`));
    // just written (racily clean): read and checked against the checksum, not parsed
    assert.deepEqual(fresh().scan().map((c) => [c.name, c.def === null]), [['i2', false], ['i3', false], ['i4', false]]);
    // changed: i3 in place with the same size, stat and all, as an edit in the same timestamp tick would be
    const i3 = path.join(dir, 'i3.xml');
    const { atime, mtime } = statSync(i3);
    writeFileSync(i3, readFileSync(i3, 'utf8').replace('<on_crash>destroy<', '<on_crash>restart<'));
    utimesSync(i3, atime, mtime);
    // i4 edited later: another mtime
    writeFileSync(path.join(dir, 'i4.xml'), formatDomainXML(def('i4', 16)));
    const again = fresh();
    const scanned = again.scan();
    assert.deepEqual(scanned.map((c) => [c.name, c.def === null]), [['i2', false], ['i3', true], ['i4', true]]);
    assert.deepEqual(scanned[0]!.def, defs[1]);
  });

  it('an index written once a fresh file is a tick old settles it: the next start does not read it', async (t) => {
    const { index, cf } = files();
    await write(cf, def('s1'));
    const stampedAt = (): bigint => BigInt(cf.readIndex().get('s1')!.at);
    cf.flushIndex();
    const fresh = stampedAt();
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 5000 });
    await write(cf, def('s2')); // a change, so the index is written again
    cf.flushIndex();
    t.mock.timers.reset();
    assert.ok(stampedAt() > fresh + 4_000_000_000n, 'stamped again, 5 s later: settled');
    assert.ok(readFileSync(index, 'utf8').includes('"s2"'));
  });

  it('a missing, unreadable or foreign index is empty, never an error', () => {
    const { index, cf } = files();
    assert.equal(cf.readIndex().size, 0);
    writeFileSync(index, '{ not json');
    assert.equal(cf.readIndex().size, 0);
    writeFileSync(index, JSON.stringify({ version: 99, configs: { a: {} } }));
    assert.equal(cf.readIndex().size, 0);
    chmodSync(index, 0o000); // root reads it anyway; for others an unreadable file
    assert.ok(cf.readIndex().size === 0);
  });
});
