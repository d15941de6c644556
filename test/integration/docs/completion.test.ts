// Bash completion as bash runs it: the generated scripts (dist/completion) are sourced, the words of a command line
// are set as bash sets them, and the completion function's answer is read back. Guest names come from a real
// guestd, through guestctl -r.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cleanupAllGuestd, startGuestd } from '../../helpers/guestd.js';
import { repoPath } from '../../helpers/repo.js';

const bin = mkdtempSync(path.join(tmpdir(), 'lgt-completion-'));
after(async () => {
  await cleanupAllGuestd();
  rmSync(bin, { recursive: true, force: true });
});
// guestctl on PATH, as the package installs it
writeFileSync(path.join(bin, 'guestctl'), `#!/bin/sh\nexec "${process.execPath}" "${repoPath('bin', 'guestctl.js')}" "$@"\n`);
chmodSync(path.join(bin, 'guestctl'), 0o755);

/** what completing the last word of `words` offers */
function complete(program: 'libvirt-guests' | 'guestctl', words: string[]): string[] {
  const fn = program === 'guestctl' ? '_guestctl' : '_libvirt_guests';
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); ${fn}; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['-c', script, 'complete', repoPath('dist', 'completion', program), program, ...words], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  return out.split('\n').filter(Boolean).sort();
}

test('libvirt-guests: commands, each command\'s flags, flag values, file names', () => {
  assert.deepEqual(complete('libvirt-guests', ['st']), ['start', 'status', 'stop']);
  assert.deepEqual(complete('libvirt-guests', ['stop', '--b']), ['--backend']);
  assert.deepEqual(complete('libvirt-guests', ['stop', '--backend', '']), ['auto', 'native', 'virsh']);
  assert.deepEqual(complete('libvirt-guests', ['po']), ['policy'], 'a topic, as typed');
  assert.deepEqual(complete('libvirt-guests', ['policy', '']), ['set', 'show', 'unset']);
  assert.ok(complete('libvirt-guests', ['policy', 'set', 'db1', '--o']).includes('--on-shutdown'));
  assert.ok(complete('libvirt-guests', ['reload', '--']).includes('--config'));
  assert.ok(!complete('libvirt-guests', ['reload', '--']).includes('--dry-run'), 'reload has no --dry-run');
  assert.deepEqual(complete('libvirt-guests', ['reload', '--config', repoPath('sysconfig', 'libvirt-')]), [repoPath('sysconfig', 'libvirt-guests')]);
});

test('guestctl: commands, flags, and the guest names of the connection, read over its read-only socket', async () => {
  const guestd = await startGuestd();
  for (const name of ['web1', 'web2', 'db1']) {
    const file = path.join(guestd.dir, `${name}.xml`);
    writeFileSync(file, `<domain type='process'><name>${name}</name><memory unit='MiB'>4</memory></domain>`);
    execFileSync(path.join(bin, 'guestctl'), ['-c', guestd.uri, 'define', file]);
  }
  assert.ok(complete('guestctl', ['-c', guestd.uri, 'man']).includes('managedsave'));
  assert.deepEqual(complete('guestctl', ['-c', guestd.uri, 'domstate', '--']), ['--help', '--json', '--reason']);
  assert.deepEqual(complete('guestctl', ['-c', guestd.roUri, 'start', '']), ['db1', 'web1', 'web2']);
  assert.deepEqual(complete('guestctl', ['--connect', guestd.uri, 'dominfo', 'web']), ['web1', 'web2']);
  assert.deepEqual(complete('guestctl', ['-c', guestd.uri, 'start', 'web1', '']), [], 'one domain only');
});
