// Time as an injected effect: the orchestrator measures and waits only through a Clock, so tests can use a fake
// one for the rare cases that cannot be produced for real.
import { uptime } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  /** when this host booted, in milliseconds since the epoch */
  bootedAt(): number;
  /** resolves after `ms`, or rejects with the signal's reason when it is aborted first */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  bootedAt: () => Date.now() - uptime() * 1000,
  sleep: async (ms, signal) => {
    await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
  },
};
