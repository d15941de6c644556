// Writing a save image, inside the guest runtime (which holds the memory): the paused guest's memory streamed into
// a partial image beside the target (header, payload, trailer), at the behavior's rate and with progress, answering
// its monitor meanwhile; then renamed into place and the directory synced, so the image appears only once complete.
// A cancelled or failed write leaves no partial image behind. What the guest does around it (its status, its clock,
// the reply, the exit) is the runtime's.
import { createHash } from 'node:crypto';
import { openSync, closeSync, fsyncSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { openImageWriter, type ImageWriter } from './direct-io.js';
import { BLOCK, encodeHeader, encodeTrailer, imageSize, paddedSize, partialImage } from './image.js';
import type { GuestMemory } from './memory.js';
import { MonitorError } from './monitor-server.js';
import { pacer } from './pace.js';
import type { SaveProgress, WriteMethod } from './protocol.js';

/** a save under way: how far it got, whether it was cancelled, and the partial image it writes */
export interface SaveJob {
  startedAt: number;
  processed: number;
  total: number;
  aborted: boolean;
  tmp: string;
}

/** the job of saving `memoryBytes` of memory to `file`, begun now */
export function newSaveJob(file: string, memoryBytes: number): SaveJob {
  return {
    startedAt: Date.now(),
    processed: 0,
    total: imageSize(memoryBytes),
    aborted: false,
    tmp: partialImage(file, process.pid),
  };
}

export interface SaveImageSpec {
  file: string;
  bypassCache: boolean;
  chunkBytes: number;
  /** the behavior's save-mib-per-second (0: as fast as it goes) */
  mibPerSecond: number;
  name: string;
  uuid: string;
  memory: GuestMemory;
  /** the guest clock, frozen for the save */
  guestTimeNs: bigint;
  /** the restore leaves the guest paused (ImageFacts.paused) */
  paused: boolean;
  /** how far the payload is written, every 50 ms at the most */
  onProgress: (progress: SaveProgress) => void;
}

/**
 * Write the image of `job`: how it was written and the sha256 of the memory bytes. Throws MonitorError 'Aborted'
 * once the job is cancelled; whatever the failure, the partial image is gone.
 */
export async function writeSaveImage(job: SaveJob, spec: SaveImageSpec): Promise<{ method: WriteMethod; checksum: string }> {
  const { file, memory, guestTimeNs } = spec;
  const memoryBytes = memory.bytes.length;
  const chunk = spec.chunkBytes;
  let writer: ImageWriter | null = null;
  try {
    writer = await openImageWriter(job.tmp, chunk, spec.bypassCache);
    const method = writer.method;
    const header = encodeHeader({
      name: spec.name,
      uuid: spec.uuid,
      memoryBytes,
      payloadBytes: paddedSize(memoryBytes),
      counter: memory.counter,
      guestTimeNs: guestTimeNs.toString(),
      savedAt: new Date().toISOString(),
      paused: spec.paused,
    });
    await writer.writeAt(header, 0);
    job.processed = BLOCK;
    const hash = createHash('sha256');
    const payload = paddedSize(memoryBytes);
    const pace = pacer(spec.mibPerSecond, job.startedAt);
    let lastReport = 0;
    for (let pos = 0; pos < payload; pos += chunk) {
      if (job.aborted) throw new MonitorError('Aborted', 'save cancelled');
      const n = Math.min(chunk, payload - pos);
      const useful = Math.max(0, Math.min(n, memoryBytes - pos));
      const slice = memory.bytes.subarray(pos, pos + useful);
      hash.update(slice);
      slice.copy(writer.scratch, 0);
      if (useful < n) writer.scratch.fill(0, useful, n);
      await writer.write(n);
      job.processed += n;
      const now = Date.now();
      if (now - lastReport >= 50) {
        lastReport = now;
        spec.onProgress({
          processed: job.processed,
          total: job.total,
          elapsedMs: now - job.startedAt,
        });
      }
      if (!(await pace(pos + n)) && (pos / chunk) % 16 === 15) {
        await new Promise((r) => setImmediate(r)); // let the monitor answer query-save / save-cancel
      }
    }
    if (job.aborted) throw new MonitorError('Aborted', 'save cancelled');
    const sha = hash.digest();
    await writer.writeAt(encodeTrailer(sha, header), BLOCK + payload);
    job.processed += BLOCK;
    await writer.finish();
    writer = null;
    await rename(job.tmp, file);
    syncDir(dirname(file));
    return { method, checksum: sha.toString('hex') };
  } catch (err) {
    if (writer) await writer.abort().catch(() => undefined);
    await unlink(job.tmp).catch(() => undefined);
    throw err;
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort: some filesystems refuse fsync on directories */
  }
}
