// Knowing when a guest is off. Lifecycle events tell us at once; a state poll every few seconds is the safety net
// for a missed event or a backend without events (the original polled `virsh domid` every second, one fork each).
import type { Connection, GuestRef } from '../connect/connection.js';
import type { Clock } from '../effects/clock.js';
import { isVirError, VirErr } from '../libvirt/error.js';

const OFF_STATES = new Set(['shutoff', 'crashed']);
const MAX_STATE_FAILURES = 3;

export class PowerWatch {
  private readonly waiters = new Map<string, Set<() => void>>();
  private unsubscribe: (() => Promise<void>) | null = null;
  /** whether lifecycle events arrive; without them we poll faster */
  private eventsWork = false;

  constructor(
    private readonly conn: Connection,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    try {
      this.unsubscribe = await this.conn.onLifecycle((event) => {
        if (event.kind !== 'stopped' && event.kind !== 'undefined' && event.kind !== 'crashed') return;
        const set = this.waiters.get(event.guest.uuid);
        if (set) for (const wake of [...set]) wake();
      });
      this.eventsWork = true;
    } catch {
      this.eventsWork = false;
    }
  }

  async close(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe().catch(() => undefined);
  }

  /** true when the guest is off (or gone: a transient guest vanishes when it stops) */
  async isOff(guest: GuestRef): Promise<boolean> {
    try {
      return OFF_STATES.has((await this.conn.state(guest)).state);
    } catch (err) {
      if (isVirError(err, VirErr.NO_DOMAIN)) return true;
      throw err;
    }
  }

  /**
   * Waits until the guest is off, `until` (ms since epoch; null: no limit) passes, or `signal` aborts.
   * `tick` is called about every `tickMs` while waiting (progress lines). Returns whether the guest is off; throws
   * the last error when its state could not be read three times in a row.
   */
  async waitOff(
    guest: GuestRef,
    until: number | null,
    options: { signal?: AbortSignal; tickMs?: number; tick?: (msLeft: number | null) => void } = {},
  ): Promise<boolean> {
    const pollMs = this.eventsWork ? 2000 : 1000;
    const tickMs = options.tickMs ?? 5000;
    let nextTick = this.clock.now() + tickMs;
    let failures = 0;
    for (;;) {
      try {
        if (await this.isOff(guest)) return true;
        failures = 0;
      } catch (err) {
        // the original gave up on a guest whose state it could not read ("Not tracking it anymore"); we allow a
        // few misses (a busy daemon) before giving up, so a dead connection never means waiting forever
        if (++failures >= MAX_STATE_FAILURES) throw err;
      }
      const now = this.clock.now();
      if ((until !== null && now >= until) || options.signal?.aborted) return false;
      if (now >= nextTick) {
        options.tick?.(until === null ? null : until - now);
        nextTick = now + tickMs;
      }
      const wait = Math.min(pollMs, nextTick - now, until === null ? pollMs : until - now);
      await this.sleepOrWake(guest.uuid, Math.max(1, wait), options.signal);
    }
  }

  private async sleepOrWake(uuid: string, ms: number, signal?: AbortSignal): Promise<void> {
    const local = new AbortController();
    const onAbort = (): void => local.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let set = this.waiters.get(uuid);
    if (!set) this.waiters.set(uuid, (set = new Set()));
    const wake = (): void => local.abort();
    set.add(wake);
    try {
      await this.clock.sleep(ms, local.signal);
    } catch {
      // woken by an event or the caller's signal: the loop re-checks the state
    } finally {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(uuid);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
