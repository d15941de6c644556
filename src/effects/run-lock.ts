// Mutual exclusion between libvirt-guests runs (systemd's stop and a cron job must never act on guests at once).
// A lock file, created atomically with its content, holds the owner's pid and process start time; a lock whose owner
// is gone (ended, a zombie, or its pid reused by another process) is stale and taken over, so a kill -9 never leaves the service
// locked. Whatever else is found at the lock's path (garbage, a FIFO, a link) holds no owner and is removed.
import { promises as fs } from 'node:fs';
import { OperationError, StateFileError } from '../errors.js';
import type { Clock } from './clock.js';
import { nodeFiles, readRegularFile } from './files.js';
import { isSameProcess, processStartTime } from './processes.js';

export interface RunLock {
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  start: string;
}

/** the owner written in the lock; null when it holds no owner (garbage, or a FIFO, link or directory in its place) */
async function readOwner(file: string): Promise<Owner | null> {
  try {
    const [pid, start] = ((await readRegularFile(file, { followLinks: false })) ?? '').trim().split(/\s+/);
    return pid && start ? { pid: Number(pid), start } : null;
  } catch {
    return null;
  }
}

/**
 * Creates the lock with its owner already in it: written to a file of our own, then hard-linked to the lock's name
 * (which fails if anything, even a dangling link, is there). A lock is never seen empty, so a run starting at the
 * same moment cannot take a lock being created for a stale one.
 */
async function tryCreate(file: string, me: Owner): Promise<boolean> {
  const mine = `${file}.tmp-${me.pid}`;
  try {
    await fs.writeFile(mine, `${me.pid} ${me.start}\n`, { mode: 0o600 });
    await fs.link(mine, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StateFileError(file, `cannot create the run lock: ${(err as Error).message}`, {
      hint: 'Run as root, or point --list-file at a writable directory (the lock lives beside the list file).',
      cause: err,
    });
  } finally {
    await fs.rm(mine, { force: true });
  }
}

/**
 * Takes the lock, waiting up to `waitMs` for another run to finish (`onWait` is told once who holds it).
 * Throws an OperationError (exit 1) naming the holder when the wait is over.
 */
export async function acquireRunLock(
  file: string,
  options: { waitMs: number; clock: Clock; onWait?: (pid: number) => void },
): Promise<RunLock> {
  const me: Owner = { pid: process.pid, start: processStartTime(process.pid) ?? '0' };
  const until = options.clock.now() + options.waitMs;
  let told = false;
  for (;;) {
    if (await tryCreate(file, me)) break;
    const owner = await readOwner(file);
    if (owner === null || !isSameProcess(owner.pid, owner.start)) {
      // stale (owner died, or no owner in it): remove it only if it is still the same stale file
      const again = await readOwner(file);
      if (JSON.stringify(again) === JSON.stringify(owner)) await nodeFiles.remove(file);
      continue;
    }
    if (!told) {
      options.onWait?.(owner.pid);
      told = true;
    }
    if (options.clock.now() >= until) {
      throw new OperationError('locked', `another libvirt-guests run (pid ${owner.pid}) is acting on guests; gave up waiting`, {
        hint: `Wait for it to finish (or raise LOCK_TIMEOUT); the lock is ${file}.`,
      });
    }
    await options.clock.sleep(Math.min(200, Math.max(0, until - options.clock.now())));
  }
  return {
    async release() {
      const owner = await readOwner(file);
      if (owner && owner.pid === me.pid && owner.start === me.start) await nodeFiles.remove(file);
    },
  };
}
