// Writing and reading save images past the page cache (BYPASS_CACHE). Node cannot allocate aligned memory, so we
// allocate a little more and probe for an offset the kernel accepts for O_DIRECT (EINVAL means misaligned). When
// the filesystem refuses O_DIRECT at open (e.g. an old tmpfs) we fall back to buffered I/O plus fdatasync; when it
// opens but no buffer offset works, `dd oflag=direct` does the writing. The method used is reported.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { WriteMethod } from './protocol.js';

const PROBE = 4096;
const MAX_SHIFT = 8192;

function isEinval(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EINVAL';
}

/** a `size`-byte view of fresh memory at an offset O_DIRECT accepts, found by trying `probe` on candidates */
async function alignedView(size: number, probe: (view: Buffer) => Promise<void>): Promise<Buffer | null> {
  const raw = Buffer.allocUnsafeSlow(size + MAX_SHIFT);
  for (let shift = 0; shift < MAX_SHIFT; shift += 16) {
    const view = raw.subarray(shift, shift + size);
    try {
      await probe(view.subarray(0, PROBE));
      return view;
    } catch (err) {
      if (!isEinval(err)) throw err;
    }
  }
  return null;
}

export interface ImageWriter {
  readonly method: WriteMethod;
  /** a scratch buffer of `chunkBytes` that `write` accepts without copying (aligned for O_DIRECT) */
  readonly scratch: Buffer;
  /** write `length` bytes of scratch (a multiple of 4096) at the next position */
  write(length: number): Promise<void>;
  /** write `data` (a multiple of 4096) at an absolute position */
  writeAt(data: Buffer, position: number): Promise<void>;
  /** flush to stable storage and close */
  finish(): Promise<void>;
  /** close without flushing (the caller removes the file) */
  abort(): Promise<void>;
}

export async function openImageWriter(path: string, chunkBytes: number, bypassCache: boolean): Promise<ImageWriter> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;
  if (bypassCache && constants.O_DIRECT !== undefined) {
    let fh: FileHandle | null = null;
    try {
      fh = await open(path, flags | constants.O_DIRECT, 0o600);
    } catch (err) {
      if (!isEinval(err)) throw err;
    }
    if (fh) {
      const handle = fh;
      const view = await alignedView(chunkBytes, async (v) => {
        v.fill(0);
        await handle.write(v, 0, v.length, 0);
      });
      if (view) return fileWriter(handle, view, 'o_direct');
      await handle.close();
      return ddWriter(path, chunkBytes);
    }
  }
  const fh = await open(path, flags, 0o600);
  return fileWriter(fh, Buffer.alloc(chunkBytes), bypassCache ? 'buffered+fsync' : 'buffered');
}

function fileWriter(fh: FileHandle, scratch: Buffer, method: WriteMethod): ImageWriter {
  let position = 0;
  return {
    method,
    scratch,
    async write(length) {
      await fh.write(scratch, 0, length, position);
      position += length;
    },
    async writeAt(data, at) {
      // O_DIRECT needs the aligned scratch buffer; data is at most one block here
      scratch.fill(0, 0, data.length);
      data.copy(scratch);
      await fh.write(scratch, 0, data.length, at);
      if (at + data.length > position) position = at + data.length;
    },
    async finish() {
      await fh.datasync();
      await fh.close();
    },
    async abort() {
      await fh.close();
    },
  };
}

/** Streams through `dd oflag=direct`; positions must be sequential (dd cannot seek back). */
export function ddWriter(path: string, chunkBytes: number): ImageWriter {
  const dd: ChildProcess = spawn('dd', [`of=${path}`, 'oflag=direct', `bs=${chunkBytes}`, 'iflag=fullblock', 'status=none'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  dd.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // dd gone (EPIPE): the write callback fails the save; unhandled, the event would kill the guest
  dd.stdin?.on('error', () => undefined);
  dd.stderr?.on('error', () => undefined);
  const exited = new Promise<number>((resolve) => {
    dd.on('error', () => resolve(127)); // dd cannot be started
    dd.on('close', (code) => resolve(code ?? 1));
  });
  let position = 0;
  const scratch = Buffer.alloc(chunkBytes);
  const push = (data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      dd.stdin?.write(Buffer.from(data), (err) => (err ? reject(new Error(`dd: ${stderr || err.message}`)) : resolve()));
    });
  return {
    method: 'dd-oflag-direct',
    scratch,
    async write(length) {
      await push(scratch.subarray(0, length));
      position += length;
    },
    async writeAt(data, at) {
      if (at !== position) throw new Error('dd writer: out-of-order write');
      await push(data);
      position += data.length;
    },
    async finish() {
      dd.stdin?.end();
      const code = await exited;
      if (code !== 0) throw new Error(`dd oflag=direct failed (exit ${code}): ${stderr.trim()}`);
    },
    async abort() {
      dd.kill('SIGKILL');
      await exited;
    },
  };
}

export interface ImageReader {
  readonly direct: boolean;
  /** read `length` bytes at `position` into a buffer valid until the next read */
  read(length: number, position: number): Promise<Buffer>;
  /** fresh memory of `size` bytes that `readInto` accepts at any offset that is a multiple of 4096 */
  allocate(size: number): Promise<Buffer>;
  /** read `target.length` bytes (a multiple of 4096 when direct) at `position` straight into `target`; bytes read */
  readInto(target: Buffer, position: number): Promise<number>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export async function openImageReader(path: string, chunkBytes: number, bypassCache: boolean): Promise<ImageReader> {
  if (bypassCache && constants.O_DIRECT !== undefined) {
    let fh: FileHandle | null = null;
    try {
      fh = await open(path, constants.O_RDONLY | constants.O_DIRECT);
    } catch (err) {
      if (!isEinval(err)) throw err;
    }
    if (fh) {
      const handle = fh;
      const view = await alignedView(chunkBytes, async (v) => {
        await handle.read(v, 0, v.length, 0);
      });
      if (view) return fileReader(handle, view, true);
      await handle.close();
    }
  }
  return fileReader(await open(path, 'r'), Buffer.alloc(chunkBytes), false);
}

function fileReader(fh: FileHandle, scratch: Buffer, direct: boolean): ImageReader {
  return {
    direct,
    async read(length, position) {
      // O_DIRECT reads must be block multiples: read the rounded length, return the asked part
      const want = direct ? Math.ceil(length / PROBE) * PROBE : length;
      const { bytesRead } = await fh.read(scratch, 0, Math.min(want, scratch.length), position);
      return scratch.subarray(0, Math.min(bytesRead, length));
    },
    async allocate(size) {
      if (!direct) return Buffer.allocUnsafeSlow(size);
      const view = await alignedView(size, async (v) => {
        await fh.read(v, 0, v.length, 0);
      });
      if (!view) throw new Error('no memory alignment that O_DIRECT reads accept');
      return view;
    },
    async readInto(target, position) {
      let done = 0;
      while (done < target.length) {
        const { bytesRead } = await fh.read(target, done, target.length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    },
    async size() {
      return (await fh.stat()).size;
    },
    close: () => fh.close(),
  };
}
