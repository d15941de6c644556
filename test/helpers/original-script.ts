// A runnable copy of the real libvirt-guests.sh (Debian's /usr/lib/libvirt/libvirt-guests.sh) whose /etc and /var
// prefixes point into a temp dir, so the host's config, list file and lock are never touched.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runProgram, type RunResult } from './virsh.js';

export const ORIGINAL_SCRIPT = '/usr/lib/libvirt/libvirt-guests.sh';

export interface OriginalScript {
  script: string;
  root: string;
  /** where the copy keeps its list of saved guests */
  listFile: string;
  configFile: string;
  configure(lines: string[]): void;
  run(command: string): Promise<RunResult>;
}

export function prepareOriginal(dir: string): OriginalScript {
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'etc/default'), { recursive: true });
  mkdirSync(path.join(root, 'var/lib/libvirt'), { recursive: true });
  mkdirSync(path.join(root, 'var/lock'), { recursive: true });
  // the script's only host paths are these two prefixes (sysconfdir and localstatedir)
  const original = readFileSync(ORIGINAL_SCRIPT, 'utf8');
  const copy = original
    .replace(/^sysconfdir="\/etc"$/m, `sysconfdir="${root}/etc"`)
    .replace(/^localstatedir="\/var"$/m, `localstatedir="${root}/var"`);
  assert.notEqual(copy, original, 'the script defines sysconfdir/localstatedir as expected');
  const script = path.join(dir, 'libvirt-guests.sh');
  writeFileSync(script, copy, { mode: 0o755 });
  const configFile = path.join(root, 'etc/default/libvirt-guests');
  return {
    script,
    root,
    listFile: path.join(root, 'var/lib/libvirt/libvirt-guests'),
    configFile,
    configure: (lines) => writeFileSync(configFile, `${lines.join('\n')}\n`),
    run: (command) => runProgram('sh', [script, command], { timeoutMs: 300_000 }),
  };
}
