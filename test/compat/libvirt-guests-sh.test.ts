// The real libvirt-guests.sh (Debian's /usr/lib/libvirt/libvirt-guests.sh) driving guestd through the real virsh:
// `stop` suspends six process guests (managedsave), `start` restores them, and each continues from its saved
// state (checked in the guest runtime itself through its monitor). The script runs from a copy whose
// /etc and /var prefixes point into a temp dir, so the host's config, list file and lock are never touched.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanupAllGuestd, startGuestd, type GuestdInstance } from '../helpers/guestd.js';
import { guestXml, virsh } from '../helpers/virsh.js';
import { ORIGINAL_SCRIPT, prepareOriginal, type OriginalScript } from '../helpers/original-script.js';

const SCRIPT = ORIGINAL_SCRIPT;
const GUESTS = ['cg1', 'cg2', 'cg3', 'cg4', 'cg5', 'cg6'];

interface GuestState {
  counter: number;
  checksum: string;
  restoredFrom: { counter: number; checksum: string } | null;
}

/** query-state on a guest's monitor socket (JSON lines: greeting, then one reply per request) */
function queryState(socketPath: string): Promise<GuestState> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buffer = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error('monitor did not answer'))), 5000);
    s.on('connect', () => s.write(`${JSON.stringify({ id: 1, execute: 'query-state', arguments: {} })}\n`));
    s.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (const line of buffer.split('\n').slice(0, -1)) {
        const m = JSON.parse(line) as { id?: number; return?: GuestState; error?: { desc: string } };
        if (m.id !== 1) continue;
        clearTimeout(timer);
        s.destroy();
        if (m.return) resolve(m.return);
        else reject(new Error(m.error?.desc ?? 'monitor error'));
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    s.on('error', reject);
  });
}

function findFile(dir: string, name: string): string | null {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.name === name) return p;
    if (entry.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    }
  }
  return null;
}

describe('the real libvirt-guests.sh against guestd', { skip: !existsSync(SCRIPT) && process.env.CI !== 'true' ? `${SCRIPT} is not installed` : false }, () => {
  let gd: GuestdInstance;
  let original: OriginalScript;
  const uuids = new Map<string, string>();

  const monitorOf = (name: string): string => {
    const sock = findFile(path.join(gd.sockDir, 'process'), `${uuids.get(name)}.sock`);
    assert.ok(sock, `monitor socket of ${name}`);
    return sock;
  };
  const runScript = (command: string) => original.run(command);

  before(async () => {
    gd = await startGuestd();
    original = prepareOriginal(gd.dir);
    original.configure([`URIS="${gd.uri}"`, 'ON_BOOT=start', 'ON_SHUTDOWN=suspend', 'START_DELAY=0', 'PARALLEL_SHUTDOWN=0', 'SYNC_TIME=1']);
    for (const name of GUESTS) {
      const file = path.join(gd.dir, `${name}.xml`);
      writeFileSync(file, guestXml(name, { 'save-mib-per-second': 8 }, 4));
      assert.equal((await virsh(gd.uri, 'define', file)).code, 0);
      assert.equal((await virsh(gd.uri, 'start', name)).code, 0);
      uuids.set(name, (await virsh(gd.uri, 'domuuid', name)).stdout.trim());
    }
  });
  after(cleanupAllGuestd);

  it('stop suspends every guest and start brings each back from its saved state', async () => {
    const before = new Map<string, GuestState>();
    for (const name of GUESTS) before.set(name, await queryState(monitorOf(name)));

    const stop = await runScript('stop');
    assert.equal(stop.code, 0, `stop failed:\n${stop.stdout}\n${stop.stderr}`);
    assert.match(stop.stdout, /Suspending guests on/);
    const list = await virsh(gd.uri, 'list', '--all');
    for (const name of GUESTS) {
      assert.match(list.stdout, new RegExp(`-\\s+${name}\\s+shut off`));
      assert.match((await virsh(gd.uri, 'dominfo', name)).stdout, /Managed save:\s+yes/);
    }
    const listFile = readFileSync(original.listFile, 'utf8');
    assert.ok(listFile.startsWith(gd.uri), listFile);
    for (const uuid of uuids.values()) assert.ok(listFile.includes(uuid), `${uuid} recorded in the list file`);

    const start = await runScript('start');
    assert.equal(start.code, 0, `start failed:\n${start.stdout}\n${start.stderr}`);
    assert.match(start.stdout, /Resuming guests on/);
    const running = await virsh(gd.uri, 'list');
    for (const name of GUESTS) {
      assert.match(running.stdout, new RegExp(`\\d+\\s+${name}\\s+running`));
      const now = await queryState(monitorOf(name));
      const was = before.get(name)!;
      assert.ok(now.restoredFrom, `${name} was restored from its image, not booted afresh`);
      assert.ok(now.restoredFrom.counter >= was.counter, `${name} continues from its saved counter`);
      assert.ok(now.counter >= now.restoredFrom.counter);
      assert.match((await virsh(gd.uri, 'dominfo', name)).stdout, /Managed save:\s+no/);
    }
    assert.ok(!existsSync(original.listFile), 'the list file is consumed');
  });
});
