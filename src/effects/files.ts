// File effects: the only module of the CLI side that touches the file system. Everything else receives a `Files`
// so that logic can be tested without touching real paths.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { StateFileError } from '../errors.js';

export interface Files {
  /** the file's text, or null when it does not exist */
  readText(file: string): Promise<string | null>;
  exists(file: string): Promise<boolean>;
  /** write through a temporary file and rename, so readers never see a partial file (parent created if missing) */
  writeAtomic(file: string, text: string, mode?: number): Promise<void>;
  /** create the file if missing (content untouched if present; parent created if missing) */
  touch(file: string, mode?: number): Promise<void>;
  /** remove the file; no error when absent */
  remove(file: string): Promise<void>;
  /** move a file aside (same file system) */
  rename(from: string, to: string): Promise<void>;
}

function failure(file: string, verb: string, err: unknown): StateFileError {
  const e = err as NodeJS.ErrnoException;
  const hint =
    e.code === 'EACCES' || e.code === 'EPERM'
      ? 'Run as root, or point the path elsewhere with the corresponding flag or environment variable.'
      : e.code === 'ENOENT'
        ? `Create the directory ${path.dirname(file)} first, or point the path elsewhere.`
        : undefined;
  return new StateFileError(file, `cannot ${verb}: ${e.message}`, { hint, cause: err });
}

export const nodeFiles: Files = {
  async readText(file) {
    try {
      return await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw failure(file, 'read', err);
    }
  },
  async exists(file) {
    try {
      await fs.access(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw failure(file, 'check', err);
    }
  },
  async writeAtomic(file, text, mode = 0o600) {
    try {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
      await writeFileAtomic(file, text, { mode, fsync: true });
    } catch (err) {
      throw failure(file, 'write', err);
    }
  },
  async touch(file, mode = 0o644) {
    try {
      // /var/lock/subsys (the upstream lock's directory) does not exist on Debian-like systems
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
      const handle = await fs.open(file, 'a', mode);
      await handle.close();
    } catch (err) {
      throw failure(file, 'create', err);
    }
  },
  async remove(file) {
    try {
      await fs.rm(file, { force: true });
    } catch (err) {
      throw failure(file, 'remove', err);
    }
  },
  async rename(from, to) {
    try {
      await fs.rename(from, to);
    } catch (err) {
      throw failure(from, `move to ${to}`, err);
    }
  },
};
