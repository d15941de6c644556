// Where libvirt-guests keeps its state: each path from a flag, else an environment variable, else the original's.

/** The original's paths (upstream layout), so a list written by either tool is found by the other. */
export const DEFAULT_LIST_FILE = '/var/lib/libvirt/libvirt-guests';
export const DEFAULT_LOCK_FILE = '/var/lock/subsys/libvirt-guests';
export const LIST_FILE_ENV = 'LIBVIRT_GUESTS_LIST_FILE';
export const LOCK_FILE_ENV = 'LIBVIRT_GUESTS_LOCK_FILE';

export interface StatePaths {
  listFile: string;
  lockFile: string;
}

function pick(flag: string | undefined, envValue: string | undefined, fallback: string): string {
  if (flag !== undefined && flag !== '') return flag;
  if (envValue !== undefined && envValue !== '') return envValue;
  return fallback;
}

export function statePaths(flags: { listFile?: string; lockFile?: string }, env: NodeJS.ProcessEnv): StatePaths {
  return {
    listFile: pick(flags.listFile, env[LIST_FILE_ENV], DEFAULT_LIST_FILE),
    lockFile: pick(flags.lockFile, env[LOCK_FILE_ENV], DEFAULT_LOCK_FILE),
  };
}
