// Everything the orchestrator needs from the outside, injected: connections, time, files, the run lock, systemd,
// and a reporter. Commands build the real ones (src/cli/services.ts); nothing here opens sockets or spawns.
import type { Connection } from '../connect/connection.js';
import type { Clock } from '../effects/clock.js';
import type { Files } from '../effects/files.js';
import type { RunLock } from '../effects/run-lock.js';
import type { Supervisor } from '../effects/sd-notify.js';
import type { Reporter } from './events.js';
import { ShutdownRecord, shutdownRecordPath } from './shutdown-record.js';

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

/**
 * Takes the run lock for an action on `listFile`, waiting LOCK_TIMEOUT seconds; null when nothing must be locked
 * (a dry run, or a caller that holds the lock already).
 */
export async function takeRunLock(
  services: Services,
  listFile: string,
  waitSeconds: number,
  skip: boolean,
): Promise<RunLock | null> {
  if (skip) return null;
  return services.lock(runLockPath(listFile), waitSeconds * 1000, (pid) => services.report({ kind: 'lock-wait', pid }));
}

/** The record of asked shutdowns beside `listFile`, its failures reported. */
export function loadShutdownRecord(services: Services, listFile: string): Promise<ShutdownRecord> {
  return ShutdownRecord.load(services.files, listFile, services.clock.bootedAt(), (err) =>
    services.report({ kind: 'shutdowns-unrecorded', file: shutdownRecordPath(listFile), error: errorText(err) }),
  );
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
