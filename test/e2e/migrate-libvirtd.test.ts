// Our client's peer-to-peer migration call against the shared system libvirtd + QEMU, with a peer that is down:
// libvirtd accepts DOMAIN_MIGRATE_PERFORM3_PARAMS with VIR_MIGRATE_PEER2PEER, tries to open the destination, and fails
// with its own error; the guest runs on, and `evacuate` reports it and leaves it running. A migration that succeeds,
// between two real libvirtd (two private session daemons) with a QEMU guest, is test/e2e/migrate-two-libvirtd.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openConnection } from '../../src/connect/index.js';
import type { Connection } from '../../src/connect/connection.js';
import { SYSTEM_ERROR } from '../../src/connect/virsh-error.js';
import { LibvirtError } from '../../src/libvirt/error.js';
import { MigrateResult } from '../../src/orchestrator/result.js';
import { runGuests } from '../helpers/cli.js';
import { URI, defineGuest, missingPrerequisite, removeGuest, virsh } from './real-libvirt.js';

const missing = await missingPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`prerequisite missing in CI: ${missing}`);

const NAME = `lgt-migrate-${process.pid}`;
/** a libvirtd URI where nothing listens */
const NOBODY = 'qemu+tcp://127.0.0.1:1/system';

describe('peer-to-peer migration through real libvirtd, up to the peer', { skip: missing ?? false }, () => {
  let conn: Connection;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lgt-migrate-'));
    await removeGuest(NAME);
    await defineGuest('stuck', NAME, 64, 0);
    await virsh('start', NAME);
    conn = await openConnection(URI);
  });
  after(async () => {
    await conn?.close();
    await removeGuest(NAME);
    rmSync(dir, { recursive: true, force: true });
  });

  it("libvirtd takes our one call and fails at the peer with its own error; the guest runs on", async () => {
    const guest = await conn.lookup(NAME);
    await assert.rejects(conn.migrate(guest, NOBODY, { live: true, persistent: true, undefineSource: true }), (err: unknown) => {
      assert.ok(err instanceof LibvirtError && err.virCode === SYSTEM_ERROR, String(err));
      assert.match((err as Error).message, /unable to connect to server at '127\.0\.0\.1:1'/);
      return true;
    });
    assert.deepEqual(await conn.state(guest), { state: 'running', reason: 1 });
    assert.match(await virsh('dominfo', NAME), /Persistent:\s+yes/, 'still defined here');
  });

  it('evacuate NAME to a peer that is down: exit 1, the guest runs on here, nothing recorded as away', async () => {
    const config = path.join(dir, 'conf');
    const listFile = path.join(dir, 'list');
    writeFileSync(config, `URIS=${URI}\nCONNECT_RETRIES=0\n`);
    const env = { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: listFile, LIBVIRT_GUESTS_LOCK_FILE: path.join(dir, 'lock') };
    const run = await runGuests(['evacuate', NAME, '--to', NOBODY, '--json'], env);
    const result = MigrateResult.parse(JSON.parse(run.stdout));
    assert.equal(run.exitCode, 1, run.stderr);
    const mine = result.uris.flatMap((u) => u.guests).filter((g) => g.name === NAME);
    assert.deepEqual(mine.map((g) => g.outcome), ['failed']);
    assert.match(mine[0]!.error ?? '', /unable to connect to server.*the guest runs on here/);
    assert.equal(result.away, 0);
    assert.equal((await virsh('domstate', NAME)).trim(), 'running');
  });
});
