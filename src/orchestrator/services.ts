// Everything the orchestrator needs from the outside, injected: connections, time, files, the run lock, systemd,
// and a reporter. Commands build the real ones (src/cli/services.ts); nothing here opens sockets or spawns.
import type { Connection } from '../connect/connection.js';
import type { Clock } from '../effects/clock.js';
import type { Files } from '../effects/files.js';
import type { RunLock } from '../effects/run-lock.js';
import type { Supervisor } from '../effects/sd-notify.js';
import type { Reporter } from './events.js';

export interface Services {
  connect(uri: string, options: { readonly: boolean }): Promise<Connection>;
  clock: Clock;
  files: Files;
  lock(file: string, waitMs: number, onWait: (pid: number) => void): Promise<RunLock>;
  supervisor: Supervisor;
  report: Reporter;
}

/** The run lock lives beside the list file, so runs with different list files (tests) never block each other. */
export const runLockPath = (listFile: string): string => `${listFile}.lock`;

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
