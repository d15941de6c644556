// `status`, exactly as the original decides it: a list file means guests were saved and not restored yet
// (exit 3), else the lock file means the service was started (exit 0), else it is stopped (exit 3).
import { EXIT, type ExitCode } from '../errors.js';
import type { Files } from '../effects/files.js';
import type { StatePaths } from '../config/paths.js';

type ServiceState = 'stopped-with-saved-guests' | 'started' | 'stopped';

export interface StatusResult extends Record<string, unknown> {
  command: 'status';
  state: ServiceState;
  /** the original's wording */
  message: string;
  exit: ExitCode;
  listFile: string;
  lockFile: string;
}

export async function serviceStatus(files: Files, paths: StatePaths): Promise<StatusResult> {
  const base = { command: 'status' as const, listFile: paths.listFile, lockFile: paths.lockFile };
  if (await files.exists(paths.listFile)) {
    return { ...base, state: 'stopped-with-saved-guests', message: 'stopped, with saved guests', exit: EXIT.NOT_RUNNING };
  }
  if (await files.exists(paths.lockFile)) return { ...base, state: 'started', message: 'started', exit: EXIT.OK };
  return { ...base, state: 'stopped', message: 'stopped, with no saved guests', exit: EXIT.NOT_RUNNING };
}
