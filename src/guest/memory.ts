// The guest's memory: a real buffer of the configured size that keeps changing while the guest runs (a counter
// and a few pages rewritten per tick), so a save → restore round trip can be proven with a checksum.
import { createHash } from 'node:crypto';
import type { DirtyLog } from './dirty-log.js';

const PAGE = 4096;
const PAGES_PER_TICK = 4;

export class GuestMemory {
  /** while a live migration copies the memory: the pages written since they were sent */
  dirtyLog: DirtyLog | null = null;

  constructor(
    readonly bytes: Buffer,
    public counter = 0,
  ) {}

  static fresh(size: number): GuestMemory {
    return new GuestMemory(Buffer.alloc(size), 0);
  }

  /** one step of guest work: bump the counter and rewrite a few pages chosen from it */
  tick(): void {
    this.counter += 1;
    const pages = Math.max(1, Math.ceil(this.bytes.length / PAGE));
    for (let k = 0; k < PAGES_PER_TICK; k++) {
      const page = (this.counter * 2654435761 + k * 40503) % pages;
      const start = page * PAGE;
      const end = Math.min(start + PAGE, this.bytes.length);
      this.dirtyLog?.mark(page);
      for (let at = start; at + 4 <= end; at += 64) this.bytes.writeUInt32LE((this.counter + at) >>> 0, at);
    }
  }

  checksum(): string {
    return createHash('sha256').update(this.bytes).digest('hex');
  }
}
