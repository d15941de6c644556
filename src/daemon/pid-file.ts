// The PID file: one guestd per PID file. Created atomically (a temp file hard-linked into place, which fails when the
// name exists); a file left by a dead process, or by a process that is not a guestd, is taken over under a lock
// directory so two starting daemons cannot both take it.
import { linkSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLine } from '../effects/processes.js';
import { OperationError, StateFileError } from '../errors.js';

export interface PidFileHandle {
  path: string;
  release(): void;
}

/**
 * Is `pid` alive and running guestd? The file holds a pid only (as libvirtd's does, for `kill $(cat …)`), so its
 * command line stands for the start time a pid alone lacks: a reused pid is a guestd only by rare chance.
 */
function isGuestdProcess(pid: number): boolean {
  const args = commandLine(pid) ?? [];
  return args.some((arg) => /guestd/.test(path.basename(arg)) || /daemon\/main\.[jt]s$/.test(arg));
}

export function readPid(file: string): number | null {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

export function acquirePidFile(file: string, pid = process.pid): PidFileHandle {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${pid}.tmp`;
  writeFileSync(temp, `${pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(temp, file);
        return handle(file, pid);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StateFileError(file, `cannot create the PID file: ${(error as Error).message}`, { cause: error });
        }
      }
      const holder = readPid(file);
      if (holder !== null && holder !== pid && isGuestdProcess(holder)) {
        throw new OperationError(
          'already-running',
          `guestd is already running as pid ${holder} (PID file ${file})`,
          { hint: 'Stop it first, or give this instance its own --pid-file and sockets (-f config).' },
        );
      }
      takeOverStale(file, holder);
    }
    throw new StateFileError(file, 'cannot take over the PID file: another guestd is starting at the same time');
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      /* already gone */
    }
  }
}

function takeOverStale(file: string, stalePid: number | null): void {
  const lock = `${file}.lock`;
  try {
    mkdirSync(lock);
  } catch {
    // someone else is taking it over; a lock older than 10 s was left by a crash
    try {
      if (Date.now() - statSync(lock).mtimeMs > 10_000) rmdirSync(lock);
    } catch {
      /* gone meanwhile */
    }
    return;
  }
  try {
    if (readPid(file) === stalePid) unlinkSync(file);
  } catch {
    /* removed meanwhile */
  } finally {
    rmdirSync(lock);
  }
}

function handle(file: string, pid: number): PidFileHandle {
  let released = false;
  return {
    path: file,
    release() {
      if (released) return;
      released = true;
      if (readPid(file) === pid) {
        try {
          unlinkSync(file);
        } catch {
          /* gone */
        }
      }
    },
  };
}
