// Special files where libvirt-guests expects its config, list, service lock and run lock: a FIFO, a directory, a
// symbolic link. Nothing may block on one, a stop acts on the guests whatever the list file is, and no state file is
// ever written through a link.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runGuests, sandbox } from '../../helpers/cli.js';
import { cleanupAllGuestd } from '../../helpers/guestd.js';
import { SHUTOFF_SAVED, startFleet, type Fleet } from '../../helpers/fleet.js';

after(cleanupAllGuestd);

const mkfifo = (file: string): void => void execFileSync('mkfifo', [file]);

function kind(file: string): string {
  const st = lstatSync(file);
  return st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
}

test('a FIFO as the configuration file: reload and start exit 6 at once, status 4 ("unknown"), naming it', async () => {
  const sb = sandbox();
  const fifo = path.join(sb.dir, 'config.fifo');
  mkfifo(fifo);
  const runs = await Promise.all(['status', 'reload', 'start'].map((cmd) => runGuests([cmd, '--config', fifo], sb.env)));
  for (const [i, r] of runs.entries()) {
    assert.equal(r.exitCode, i === 0 ? 4 : 6, `${['status', 'reload', 'start'][i]}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${fifo}: is a FIFO \\(named pipe\\), not a regular file`));
    assert.match(r.stderr, /--config/, 'says what to do');
  }
  assert.equal(kind(fifo), 'fifo', 'left as it is');
});

test('a FIFO or a directory as the list file: start exits 1 naming it and leaves it; status still answers', async () => {
  const sb = sandbox();
  for (const make of [mkfifo, (f: string) => mkdirSync(f)]) {
    make(sb.listFile);
    const r = await runGuests(['start'], sb.env);
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /libvirt-guests\.list: is a (FIFO \(named pipe\)|directory), not a regular file/);
    assert.match(r.stderr, /a stop moves a list it cannot read aside/);
    assert.notEqual(kind(sb.listFile), 'file', 'left as it is');
    const status = await runGuests(['status'], sb.env);
    assert.deepEqual([status.stdout, status.exitCode], ['stopped, with saved guests', 3]);
    execFileSync('rm', ['-r', sb.listFile]);
  }
});

test('a FIFO as the service lock or the run lock: start does not block, and the service lock becomes a file', async () => {
  const sb = sandbox();
  mkfifo(sb.lockFile);
  mkfifo(`${sb.listFile}.lock`);
  const r = await runGuests(['start'], sb.env);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(kind(sb.lockFile), 'file');
  assert.deepEqual([(await runGuests(['status'], sb.env)).stdout], ['started']);
});

test('a symlink as the service lock: start replaces the link, never creates its target', async () => {
  const sb = sandbox();
  const target = path.join(sb.dir, 'target');
  symlinkSync(target, sb.lockFile);
  const r = await runGuests(['start'], sb.env);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(kind(sb.lockFile), 'file');
  assert.deepEqual(readdirSync(sb.dir).filter((f) => f === 'target'), []);
});

async function withFleet(fn: (fleet: Fleet) => Promise<void>): Promise<void> {
  const fleet = await startFleet({ plain: 2 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0 });
    await fn(fleet);
  } finally {
    await fleet.close();
  }
}

const listed = (fleet: Fleet): string => `${fleet.guestd.uri} ${fleet.guests.map((g) => g.uuid).join(' ')}\n`;

for (const [what, make] of [
  ['a directory', (f: string) => (mkdirSync(f), writeFileSync(path.join(f, 'inside'), 'kept\n'))],
  ['a FIFO', mkfifo],
] as const) {
  test(`${what} as the list file: stop moves it aside, saves the guests and writes a new list`, async () => {
    await withFleet(async (fleet) => {
      make(fleet.sb.listFile);
      const r = await runGuests(['stop'], fleet.sb.env);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stderr, /The list of saved guests could not be read \(.*not a regular file\); it was moved to .*\.malformed-/);
      for (const g of fleet.guests) assert.deepEqual(await fleet.state(g.name), { state: 'shutoff', reason: SHUTOFF_SAVED }, g.name);
      assert.equal(kind(fleet.sb.listFile), 'file');
      assert.equal(readFileSync(fleet.sb.listFile, 'utf8'), listed(fleet));
      const aside = readdirSync(fleet.sb.dir).filter((f) => f.startsWith('libvirt-guests.list.malformed-'));
      assert.equal(aside.length, 1);
      assert.equal(kind(path.join(fleet.sb.dir, aside[0]!)), what === 'a FIFO' ? 'fifo' : 'directory', 'moved, not deleted');
    });
  });
}

test('a symlink as the list file: its list is kept, the link is replaced by a file, its target never written', async () => {
  await withFleet(async (fleet) => {
    const target = path.join(fleet.sb.dir, 'elsewhere');
    const old = 'qemu+tls://other/system 11111111-2222-3333-4444-555555555555\n';
    writeFileSync(target, old);
    symlinkSync(target, fleet.sb.listFile);
    const r = await runGuests(['stop'], fleet.sb.env);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(readFileSync(target, 'utf8'), old, 'the target is untouched');
    assert.equal(kind(fleet.sb.listFile), 'file');
    assert.equal(readFileSync(fleet.sb.listFile, 'utf8'), `${old}${listed(fleet)}`, 'the old list was read through the link and merged');
  });
});

test('a list that can be neither read nor moved aside: stop acts on the guests all the same, exits 1 and says so', async (t) => {
  await withFleet(async (fleet) => {
    mkdirSync(fleet.sb.listFile);
    try {
      execFileSync('chattr', ['+i', fleet.sb.listFile], { stdio: 'pipe' });
    } catch (err) {
      // an immutable directory is the one way to make a rename fail for root; some file systems lack the flag
      if (process.env.CI === 'true') throw err;
      t.skip(`chattr +i is not supported here: ${(err as Error).message}`);
      return;
    }
    try {
      const r = await runGuests(['stop'], fleet.sb.env);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.match(r.stderr, /cannot be recorded in the list of saved guests \(.*libvirt-guests\.list: cannot move to .*\); acting on them all the same/);
      assert.match(r.stdout, /stop: 2 suspended\nthe guests could not be recorded for start: /);
      for (const g of fleet.guests) assert.deepEqual(await fleet.state(g.name), { state: 'shutoff', reason: SHUTOFF_SAVED }, g.name);
      assert.equal(kind(fleet.sb.listFile), 'directory', 'left where it was');
    } finally {
      execFileSync('chattr', ['-i', fleet.sb.listFile]);
    }
  });
});
