// Benchmark: restore's read of a save image (read, verify the checksum, load the memory: readImage, as the guest
// runtime restores) next to the disk's physical limit for the same bytes (dd iflag=direct of the image to /dev/null),
// in one run, same file, O_DIRECT both (no page cache on either side).
//   npm run bench:restore      (after npm run build; BENCH_QUICK=1: 128 MiB instead of 512 MiB; argv[2]: MiB)
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BLOCK, encodeHeader, encodeTrailer, paddedSize, readImage } from '../src/guest/image.js';
import { QUICK, median } from './measure.js';

const MIB = Number(process.argv[2] ?? (QUICK ? 128 : 512));
const RUNS = 3;
const memoryBytes = MIB * 1024 * 1024;
const uuid = '0b5c7a4e-8f1d-4c5e-9a3b-2d6f8e1c4b7a';

const dir = mkdtempSync(path.join(process.env['BENCH_DIR'] ?? tmpdir(), 'restore-stream-'));
const file = path.join(dir, 'bench.save');
try {
  // an image as a save writes it: header, memory (random: nothing compresses or dedups), trailer
  const header = encodeHeader({
    name: 'bench',
    uuid,
    memoryBytes,
    payloadBytes: paddedSize(memoryBytes),
    counter: 1,
    guestTimeNs: '0',
    savedAt: new Date().toISOString(),
  });
  const fd = openSync(file, 'w', 0o600);
  writeSync(fd, header);
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1 << 24);
  for (let pos = 0; pos < memoryBytes; pos += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, memoryBytes - pos));
    randomFillSync(part);
    hash.update(part);
    writeSync(fd, part);
  }
  writeSync(fd, encodeTrailer(hash.digest(), header));
  fsyncSync(fd);
  closeSync(fd);

  const limit: number[] = [];
  const restore: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    execFileSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M', 'iflag=direct', 'status=none']);
    limit.push(performance.now() - t);
    t = performance.now();
    const img = await readImage(file, { uuid, memoryBytes, bypassCache: true });
    restore.push(performance.now() - t);
    if (!img.direct) console.error('restore-stream: O_DIRECT refused here, the restore read was buffered');
  }
  const bytes = memoryBytes + 2 * BLOCK;
  const mbps = (ms: number): string => ((bytes / 1024 / 1024) / (ms / 1000)).toFixed(0);
  const l = median(limit);
  const r = median(restore);
  console.log(`restore of a ${MIB} MiB image, O_DIRECT, median of ${RUNS}:`);
  console.log(`  physical limit (dd iflag=direct): ${l.toFixed(0)} ms (${mbps(l)} MiB/s)`);
  console.log(`  readImage (read + sha256 + load): ${r.toFixed(0)} ms (${mbps(r)} MiB/s)`);
  console.log(`  restore / limit: ${(r / l).toFixed(2)} (target ≤ 2)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
