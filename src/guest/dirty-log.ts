// Which pages of the guest's memory were written since they were last sent (live migration's dirty log).
export class DirtyLog {
  private readonly dirty: Uint8Array;
  private count: number;

  constructor(pages: number) {
    this.dirty = new Uint8Array(pages).fill(1); // the first pass sends everything
    this.count = pages;
  }

  mark(page: number): void {
    if (this.dirty[page] === 0) {
      this.dirty[page] = 1;
      this.count += 1;
    }
  }

  get size(): number {
    return this.count;
  }

  /** the dirty pages as runs [first, count] of at most `maxRun` pages; the log is cleared */
  take(maxRun: number): Array<[first: number, count: number]> {
    const runs: Array<[number, number]> = [];
    let start = -1;
    for (let p = 0; p <= this.dirty.length; p++) {
      const isDirty = p < this.dirty.length && this.dirty[p] === 1;
      if (isDirty && start < 0) start = p;
      if (start >= 0 && (!isDirty || p - start === maxRun)) {
        runs.push([start, p - start]);
        start = isDirty ? p : -1;
      }
    }
    this.dirty.fill(0);
    this.count = 0;
    return runs;
  }
}
