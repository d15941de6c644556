// Defect B on real libvirtd + QEMU: a QEMU guest asked to shut down stays 'running' until it powers off, with no
// reason or job that says so. Here a stop asked one guest to shut down and was killed (its list and its note of the
// request are written as that stop wrote them; only this test's guest is in them, so no other guest of the shared
// daemon is touched). start must wait for the guest; when it goes off (destroyed here: this guest has no OS to
// obey the button), start starts it again instead of having called it "already active".
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeFiles } from '../../src/effects/files.js';
import { writeListFile } from '../../src/orchestrator/list-file.js';
import { StartResult } from '../../src/orchestrator/result.js';
import { ShutdownRecord } from '../../src/orchestrator/shutdown-record.js';
import { waitFor } from '../helpers/guestd.js';
import { repoPath } from '../helpers/repo.js';
import { URI, defineGuest, missingPrerequisite, removeGuest, virsh } from './real-libvirt.js';

const missing = await missingPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`prerequisite missing in CI: ${missing}`);

const NAME = 'lgt-interrupted-1';

describe('a stop killed during a shutdown, on real libvirtd', { skip: missing ?? false }, () => {
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lgt-interrupted-'));
    await removeGuest(NAME);
    await defineGuest('stuck', NAME, 64, 0);
    await virsh('start', NAME);
  });

  after(async () => {
    await removeGuest(NAME);
    rmSync(dir, { recursive: true, force: true });
  });

  it('start waits for the guest that was asked to shut down, then starts it again', async () => {
    const listFile = path.join(dir, 'list');
    const uuid = (await virsh('domuuid', NAME)).trim();
    const id = Number((await virsh('domid', NAME)).trim());
    // what the killed stop left: the list, its note of the request, and the request itself
    await writeListFile(nodeFiles, listFile, [{ uri: URI, uuids: [uuid] }]);
    const record = await ShutdownRecord.load(nodeFiles, listFile, 0, (err) => assert.fail(String(err)));
    await record.note(URI, { uuid, name: NAME, id }, Date.now());
    await virsh('shutdown', NAME);

    const config = path.join(dir, 'conf');
    writeFileSync(config, `URIS=${URI}\nON_BOOT=start\nON_SHUTDOWN=shutdown\nSHUTDOWN_TIMEOUT=120\nCONNECT_RETRIES=0\n`);
    const env = { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: listFile, LIBVIRT_GUESTS_LOCK_FILE: path.join(dir, 'lock') };
    const child = spawn(process.execPath, [repoPath('bin/run.js'), 'start', '--json'], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor('start to wait for the guest', () => stderr.includes(`Waiting for guest ${NAME} to shut down`), 30_000);
    } catch (err) {
      child.kill();
      throw new Error(`${(err as Error).message}\nstart said:\n${stderr}\n${stdout}`);
    }
    await virsh('destroy', NAME); // the guest powers off
    assert.equal(await exited, 0, stderr);
    const result = StartResult.parse(JSON.parse(stdout));
    assert.deepEqual(result.uris[0]!.guests.map((g) => [g.name, g.outcome]), [[NAME, 'done']]);
    assert.equal((await virsh('domstate', '--reason', NAME)).trim(), 'running (booted)');
  });
});
