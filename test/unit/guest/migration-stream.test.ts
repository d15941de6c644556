// The pieces of a migration stream that need no socket: the dirty log's runs and the migration URIs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DirtyLog } from '../../../src/guest/dirty-log.js';
import { GuestMemory } from '../../../src/guest/memory.js';
import { formatMigrationUri, parseMigrationUri } from '../../../src/guest/migration-stream.js';

describe('dirty log', () => {
  it('starts with every page dirty, in runs of at most maxRun, and is empty once taken', () => {
    const log = new DirtyLog(10);
    assert.equal(log.size, 10);
    assert.deepEqual(log.take(4), [
      [0, 4],
      [4, 4],
      [8, 2],
    ]);
    assert.equal(log.size, 0);
    assert.deepEqual(log.take(4), []);
  });

  it('marks each page once; runs follow the gaps', () => {
    const log = new DirtyLog(10);
    log.take(10);
    for (const p of [1, 2, 2, 3, 7, 9]) log.mark(p);
    assert.equal(log.size, 5);
    assert.deepEqual(log.take(10), [
      [1, 3],
      [7, 1],
      [9, 1],
    ]);
  });

  it("the guest's memory marks the pages it writes while a log is attached", () => {
    const memory = GuestMemory.fresh(64 * 4096);
    const log = new DirtyLog(64);
    log.take(64);
    memory.dirtyLog = log;
    memory.tick();
    assert.ok(log.size > 0 && log.size <= 4, `${log.size} pages`);
    memory.dirtyLog = null;
    log.take(64);
    memory.tick();
    assert.equal(log.size, 0);
  });
});

describe('migration URIs', () => {
  it('unix and tcp, both ways', () => {
    for (const uri of ['unix:/run/guestd/x.sock', 'tcp:peer.example:49152', 'tcp:[::1]:5000']) {
      assert.equal(formatMigrationUri(parseMigrationUri(uri)), uri);
    }
    assert.deepEqual(parseMigrationUri('tcp://10.0.0.2:0'), { host: '10.0.0.2', port: 0 });
  });

  it('anything else is refused with what is expected', () => {
    for (const bad of ['unix:relative', 'tcp:host', 'tcp:host:99999', 'rdma:host:1', '']) {
      assert.throws(() => parseMigrationUri(bad), /is not a migration URI \(unix:\/path or tcp:host:port\)/, bad);
    }
  });
});
