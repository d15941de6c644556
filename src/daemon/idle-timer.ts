// -t/--timeout: exit when there has been no client and no running guest for the whole period. Checked once a second
// against an injected clock, so the rule is testable without waiting.
export interface IdleProbe {
  clients(): number;
  runningGuests(): boolean;
}

export interface IdleTimer {
  stop(): void;
}

export function startIdleTimer(
  timeoutSec: number,
  probe: IdleProbe,
  onIdle: () => void,
  clock: { now(): number; every(ms: number, fn: () => void): () => void } = {
    now: () => Date.now(),
    every: (ms, fn) => {
      const t = setInterval(fn, ms);
      t.unref();
      return () => clearInterval(t);
    },
  },
): IdleTimer {
  let idleSince: number | null = clock.now();
  let fired = false;
  const stop = clock.every(Math.min(1000, timeoutSec * 250 || 1000), () => {
    if (fired) return;
    const busy = probe.clients() > 0 || probe.runningGuests();
    if (busy) {
      idleSince = null;
      return;
    }
    idleSince ??= clock.now();
    if (clock.now() - idleSince >= timeoutSec * 1000) {
      fired = true;
      stop();
      onIdle();
    }
  });
  return { stop };
}
