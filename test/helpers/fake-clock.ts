// A Clock whose time moves only when everything else is waiting: `run(work)` lets the work go on until it settles,
// and whenever no promise can progress any more (every callback has run: one macrotask turn), time jumps to the
// earliest pending sleep. So the orchestrator's timing (budgets, deadlines, polls, retries) runs in microseconds
// and exactly: "asked at 2000 ms" means at 2000 ms, whatever the machine's load. Only in-memory fakes may sit
// behind it (real I/O would complete in real time, after the clock had already jumped).
import { setImmediate as turn } from 'node:timers/promises';
import type { Clock } from '../../src/effects/clock.js';

interface Timer {
  at: number;
  seq: number;
  fire(): void;
}

/** 2026-01-01T00:00:00Z: a fixed origin, so times in results and file names never depend on the real clock */
export const ORIGIN = Date.UTC(2026, 0, 1);

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers: Timer[] = [];

  constructor(
    start = ORIGIN,
    /** when the host booted: an hour before `start` unless told */
    private readonly booted = start - 3_600_000,
  ) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  bootedAt(): number {
    return this.booted;
  }

  /** ms of fake time since the clock was made */
  elapsed(origin = ORIGIN): number {
    return this.time - origin;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.cancel(timer);
        reject(signal!.reason);
      };
      const timer = this.at(this.time + Math.max(0, ms), () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** calls `fire` when the clock reaches `at` (ms since the epoch); what a fake host schedules its guests with */
  at(at: number, fire: () => void): Timer {
    const timer = { at, seq: this.seq++, fire };
    this.timers.push(timer);
    return timer;
  }

  cancel(timer: Timer): void {
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /**
   * Runs `work` to its end: whenever it cannot progress, time jumps to the next timer. Fails when nothing is left
   * to wait for while the work is still pending (it waits for something no fake will ever do), or when it keeps
   * time moving past `limitMs` (a loop that never ends).
   */
  async run<T>(work: Promise<T>, limitMs = 24 * 3_600_000): Promise<T> {
    let settled = false;
    let failure: { error: unknown } | undefined;
    let value: T | undefined;
    work.then(
      (v) => ((settled = true), (value = v)),
      (error: unknown) => ((settled = true), (failure = { error })),
    );
    const limit = this.time + limitMs;
    for (;;) {
      await turn(); // every promise that can progress does so before the clock moves
      if (settled) break;
      const next = this.earliest();
      if (!next) throw new Error(`the work waits for nothing the clock knows of, at ${this.time - ORIGIN} ms`);
      if (next.at > limit) throw new Error(`the work still runs after ${limitMs} ms of fake time`);
      this.cancel(next);
      this.time = Math.max(this.time, next.at);
      next.fire();
    }
    if (failure) throw failure.error;
    return value as T;
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}
