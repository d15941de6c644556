// Runs the built libvirt-guests bin as a subprocess (oclif's in-process capture clashes with node:test).
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoPath } from './repo.js';

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function runGuests(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliRun> {
  const r = await execa(process.execPath, [repoPath('bin/run.js'), ...args], {
    reject: false,
    env: { NO_COLOR: '1', ...env },
    cwd: cwd ?? repoPath(),
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
}

/**
 * A temp dir with an (initially empty) config, and env pointing every path into it. The defaults are upstream's
 * whatever the machine's distribution (tests of the Debian profile name it).
 */
export function sandbox(configText = ''): { dir: string; env: Record<string, string>; config: string; listFile: string; lockFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lgt-cli-'));
  const config = path.join(dir, 'libvirt-guests.conf');
  writeFileSync(config, configText);
  const listFile = path.join(dir, 'libvirt-guests.list');
  const lockFile = path.join(dir, 'libvirt-guests.lock');
  return {
    dir,
    config,
    listFile,
    lockFile,
    env: { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: listFile, LIBVIRT_GUESTS_LOCK_FILE: lockFile, LIBVIRT_GUESTS_PROFILE: 'upstream' },
  };
}
