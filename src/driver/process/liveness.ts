// Whether guest processes live, told by pid and start time (a reused pid is another process): whether one ends
// within a time, and the periodic look at the process of every running guest; and the bounded wait the guest
// processes use for other work (a saved guest's exit, a monitor's last bytes). Times are the driver's clock's.
import type { Clock } from '../../effects/clock.js';
import { isSameProcess } from '../../effects/processes.js';
import type { DriverContext } from './context.js';
import type { Dom, Running } from './domain-table.js';

/** whether `work` settles within `ms`; its signal is aborted once the answer is known */
export async function settlesWithin(clock: Clock, ms: number, work: (signal: AbortSignal) => Promise<unknown>): Promise<boolean> {
  const decided = new AbortController();
  try {
    return await Promise.race([
      work(decided.signal).then(
        () => true,
        () => true,
      ),
      clock.sleep(ms, decided.signal).then(
        () => false,
        () => true,
      ),
    ]);
  } finally {
    decided.abort();
  }
}

/** whether the process of `run` ends within `ms` */
export async function endsWithin(ctx: DriverContext, run: Running, ms: number): Promise<boolean> {
  const { clock, timing } = ctx;
  const until = clock.now() + ms;
  while (isSameProcess(run.pid, run.startTime)) {
    if (clock.now() >= until) return false;
    await clock.sleep(timing.pollMs);
  }
  return true;
}

/** every livenessIntervalMs until `signal` aborts: each running guest whose process is gone goes to `gone` */
export async function watchLiveness(ctx: DriverContext, signal: AbortSignal, gone: (dom: Dom) => void): Promise<void> {
  const { clock, timing, table } = ctx;
  for (;;) {
    try {
      await clock.sleep(timing.livenessIntervalMs, signal);
    } catch {
      return; // closed
    }
    for (const dom of table.all()) {
      const run = dom.run;
      if (run && !isSameProcess(run.pid, run.startTime)) gone(dom);
    }
  }
}
