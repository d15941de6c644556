// File effects: the only module of the CLI side that touches the file system. Everything else receives a `Files`
// so that logic can be tested without touching real paths.
//
// The config, list and lock files are paths anyone with the right permissions may have replaced by something else.
// Nothing here ever blocks on one: a FIFO, socket, device or directory is never opened for reading (it is named in a
// StateFileError), and a write replaces whatever is at the path by renaming a new file over it, so a symbolic link
// is replaced, never written through.
import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { StateFileError } from '../errors.js';

export interface Files {
  /** the text of a regular file (links followed), or null when it does not exist; anything else is an error */
  readText(file: string): Promise<string | null>;
  exists(file: string): Promise<boolean>;
  /** write a new file and rename it over the path, so readers never see a partial file (parent created if missing) */
  writeAtomic(file: string, text: string, mode?: number): Promise<void>;
  /** make sure a regular file is at the path (parent created if missing); a link or special file there is replaced */
  touch(file: string, mode?: number): Promise<void>;
  /** remove the file (or link, or special file); no error when absent */
  remove(file: string): Promise<void>;
  /** move a file aside (same file system) */
  rename(from: string, to: string): Promise<void>;
}

const HINT_NOT_REGULAR = 'libvirt-guests keeps its state in regular files: move this one away or point the path elsewhere.';

function failure(file: string, verb: string, err: unknown): StateFileError {
  const e = err as NodeJS.ErrnoException;
  const hint =
    e.code === 'EACCES' || e.code === 'EPERM'
      ? 'Run as root, or point the path elsewhere with the corresponding flag or environment variable.'
      : e.code === 'ENOENT'
        ? `Create the directory ${path.dirname(file)} first, or point the path elsewhere.`
        : e.code === 'EISDIR'
          ? HINT_NOT_REGULAR
          : undefined;
  return new StateFileError(file, `cannot ${verb}: ${e.message}`, { hint, cause: err });
}

/** what a non-regular file is, in words */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a file';
}

function notRegular(file: string, st: Stats, hint = HINT_NOT_REGULAR): StateFileError {
  return new StateFileError(file, `is ${kindOf(st)}, not a regular file`, { hint });
}

/**
 * The text of a regular file, or null when nothing is there. The type is checked before opening (opening a device
 * may have effects) and again on the open descriptor, opened non-blocking in case a FIFO took its place meanwhile.
 * With `followLinks: false` a symbolic link is refused like any other non-regular file.
 */
export async function readRegularFile(file: string, options: { followLinks: boolean }): Promise<string | null> {
  let handle: fs.FileHandle;
  try {
    const st = options.followLinks ? await fs.stat(file) : await fs.lstat(file);
    if (!st.isFile()) throw notRegular(file, st);
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK | (options.followLinks ? 0 : constants.O_NOFOLLOW));
  } catch (err) {
    if (err instanceof StateFileError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw failure(file, 'read', err);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notRegular(file, st);
    return await handle.readFile('utf8');
  } catch (err) {
    if (err instanceof StateFileError) throw err;
    throw failure(file, 'read', err);
  } finally {
    await handle.close();
  }
}

let tempCount = 0;

async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  const dir = path.dirname(file);
  const temp = `${file}.tmp-${process.pid}-${tempCount++}`;
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      await handle.chmod(mode); // the umask must not widen or narrow it
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file); // replaces a link itself, never its target
    const parent = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await parent.sync(); // the rename survives a power cut
    } finally {
      await parent.close();
    }
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw failure(file, 'write', err);
  }
}

export const nodeFiles: Files = {
  readText: (file) => readRegularFile(file, { followLinks: true }),
  async exists(file) {
    try {
      await fs.access(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw failure(file, 'check', err);
    }
  },
  writeAtomic: (file, text, mode = 0o600) => writeAtomic(file, text, mode),
  async touch(file, mode = 0o644) {
    let st: Stats;
    try {
      st = await fs.lstat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw failure(file, 'check', err);
      return writeAtomic(file, '', mode); // /var/lock/subsys (upstream's) does not exist on Debian-like systems
    }
    if (st.isFile()) return;
    if (st.isDirectory()) throw notRegular(file, st);
    await writeAtomic(file, '', mode);
  },
  async remove(file) {
    try {
      await fs.unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
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
