// Where libvirt-guests keeps its state: each path from a flag, else an environment variable, else the original's
// (the lock file's default depends on the distribution profile: Debian keeps it in /var/lock).
import type { Profile } from './distribution.js';

/** The original's list file, so a list written by either tool is found by the other. */
export const DEFAULT_LIST_FILE = '/var/lib/libvirt/libvirt-guests';
export const LIST_FILE_ENV = 'LIBVIRT_GUESTS_LIST_FILE';
export const LOCK_FILE_ENV = 'LIBVIRT_GUESTS_LOCK_FILE';

export interface StatePaths {
  listFile: string;
  lockFile: string;
  /** where each path came from: "--list-file", "$LIBVIRT_GUESTS_LOCK_FILE", "Debian default", "built-in default" */
  origins: { listFile: string; lockFile: string };
}

function pick(flag: [string, string | undefined], env: [string, string | undefined], fallback: [string, string]): [string, string] {
  if (flag[1] !== undefined && flag[1] !== '') return [flag[1], flag[0]];
  if (env[1] !== undefined && env[1] !== '') return [env[1], `$${env[0]}`];
  return fallback;
}

export function statePaths(flags: { listFile?: string; lockFile?: string }, env: NodeJS.ProcessEnv, profile: Profile): StatePaths {
  const [listFile, listFrom] = pick(['--list-file', flags.listFile], [LIST_FILE_ENV, env[LIST_FILE_ENV]], [DEFAULT_LIST_FILE, 'built-in default']);
  const lockDefault = profile.name === 'upstream' ? 'built-in default' : `${profile.title} default`;
  const [lockFile, lockFrom] = pick(['--lock-file', flags.lockFile], [LOCK_FILE_ENV, env[LOCK_FILE_ENV]], [profile.lockFile, lockDefault]);
  return { listFile, lockFile, origins: { listFile: listFrom, lockFile: lockFrom } };
}
