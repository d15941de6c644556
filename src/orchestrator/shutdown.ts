// Shutting guests down: one after the other (SHUTDOWN_TIMEOUT per guest) or in parallel (PARALLEL_SHUTDOWN in
// flight, one SHUTDOWN_TIMEOUT budget per URI), as the original. Unlike the original, a parallel shutdown whose
// budget expires still asks every queued guest to shut down instead of abandoning them, and with FALLBACK=1 a guest
// that did not go off in time is destroyed.
import type { GuestInfo, GuestRef } from '../connect/connection.js';
import { isVirError, VirErr } from '../libvirt/error.js';
import type { GuestResult } from './result.js';
import { errorText } from './services.js';
import { Slots } from './slots.js';
import { GuestRecord, earliest, sharedByGuests, type UriRun } from './uri-run.js';

type WaitOutcome = { off: true } | { off: false; why: 'timeout' | 'aborted' | 'failed'; error: string };

const secondsLeft = (msLeft: number | null): number | null => (msLeft === null ? null : Math.max(0, Math.ceil(msLeft / 1000)));

/** Destroys the guest (last resort): the outcome is `done` when it is off afterwards. */
export async function destroyFallback(run: UriRun, rec: GuestRecord, from: 'suspend' | 'shutdown', reason: unknown): Promise<GuestResult> {
  rec.fallbackTo('destroy', from, reason);
  run.services.report({ kind: 'guest-begin', uri: run.uri, guest: rec.guest, action: 'destroy' });
  try {
    await run.conn.destroy(rec.guest);
  } catch (err) {
    // already off (it finished shutting down meanwhile) or gone (transient) is what we wanted
    const gone = isVirError(err, VirErr.NO_DOMAIN);
    if (!gone && !(await run.watch.isOff(rec.guest).catch(() => false))) return rec.end('failed', err);
  }
  return rec.end('done', undefined);
}

/** Ends a guest whose shutdown did not complete: destroyed with FALLBACK=1, else reported as it is. */
async function settle(run: UriRun, rec: GuestRecord, wait: Exclude<WaitOutcome, { off: true }>): Promise<GuestResult> {
  if (run.config.FALLBACK) return destroyFallback(run, rec, 'shutdown', wait.error);
  return rec.end(wait.why, wait.error);
}

async function ask(run: UriRun, guest: GuestRef): Promise<string | null> {
  run.services.report({ kind: 'guest-begin', uri: run.uri, guest, action: 'shutdown' });
  await run.shutdowns.note(run.uri, guest, run.services.clock.now()); // before asking: this run may be killed
  try {
    await run.conn.shutdown(guest);
    return null;
  } catch (err) {
    if (await run.watch.isOff(guest).catch(() => false)) return null; // went off on its own meanwhile
    return errorText(err);
  }
}

const lostTrack = (err: unknown): string => `cannot tell whether it shut down (${errorText(err)}); not tracking it any more`;

function waitFailure(run: UriRun, seconds: number | null): WaitOutcome {
  if (run.deadline.signal.aborted) return { off: false, why: 'aborted', error: 'the stop deadline (STOP_DEADLINE) expired first' };
  return { off: false, why: 'timeout', error: `not off within ${seconds ?? '?'} s (SHUTDOWN_TIMEOUT)` };
}

/** Asks one guest to shut down and waits for it, reporting every 5 s (also used after a failed save). */
export async function shutdownAndWait(run: UriRun, guest: GuestRef, tick: boolean): Promise<WaitOutcome> {
  const timeout = run.config.SHUTDOWN_TIMEOUT;
  const until = earliest(timeout > 0 ? run.services.clock.now() + timeout * 1000 : null, run.deadline.at);
  const refused = await ask(run, guest);
  if (refused !== null) return { off: false, why: 'failed', error: refused };
  try {
    const off = await run.watch.waitOff(guest, until, {
      signal: run.deadline.signal,
      tick: tick ? (msLeft) => run.services.report({ kind: 'guest-waiting', uri: run.uri, guest, secondsLeft: secondsLeft(msLeft) }) : undefined,
    });
    return off ? { off: true } : waitFailure(run, timeout);
  } catch (err) {
    return { off: false, why: 'failed', error: lostTrack(err) };
  }
}

export async function shutdownSequential(run: UriRun, guests: GuestInfo[]): Promise<GuestResult[]> {
  const results: GuestResult[] = [];
  for (const guest of guests) {
    const rec = new GuestRecord(run, guest, 'shutdown');
    const wait = await shutdownAndWait(run, guest, true);
    results.push(wait.off ? rec.end('done') : await settle(run, rec, wait));
  }
  return results;
}

export async function shutdownParallel(run: UriRun, guests: GuestInfo[], width: number): Promise<GuestResult[]> {
  const { clock, report } = run.services;
  const timeout = run.config.SHUTDOWN_TIMEOUT;
  const until = earliest(timeout > 0 ? clock.now() + timeout * 1000 : null, run.deadline.at);
  const expired = new AbortController();
  sharedByGuests(expired.signal, guests.length + 1); // each guest waits for a slot or for its power-off; one reporter
  const stopTimers = new AbortController();
  const onDeadline = (): void => expired.abort();
  run.deadline.signal.addEventListener('abort', onDeadline, { once: true });
  if (run.deadline.signal.aborted) expired.abort();
  if (until !== null) {
    clock.sleep(until - clock.now(), stopTimers.signal).then(() => expired.abort(), () => undefined);
  }
  const pending = new Set(guests.map((g) => g.uuid));
  expired.signal.addEventListener('abort', () => {
    if (pending.size > 0) report({ kind: 'timeout-expired', uri: run.uri });
  });
  // "Waiting for N guests to shut down, S seconds left" every 5 s
  void (async () => {
    for (;;) {
      try {
        await clock.sleep(5000, stopTimers.signal);
      } catch {
        return;
      }
      if (pending.size === 0 || expired.signal.aborted) return;
      report({ kind: 'uri-waiting', uri: run.uri, count: pending.size, secondsLeft: secondsLeft(until === null ? null : until - clock.now()) });
    }
  })();

  const slots = new Slots(width);
  try {
    return await Promise.all(
      guests.map(async (guest) => {
        const rec = new GuestRecord(run, guest, 'shutdown');
        const slot = await slots.acquire(expired.signal);
        const refused = await ask(run, guest);
        if (!slot) {
          // the budget ran out while it was queued: it has been asked now, but nobody waits for it
          pending.delete(guest.uuid);
          if (refused !== null) return settle(run, rec, { off: false, why: 'failed', error: refused });
          return settle(run, rec, { ...(waitFailure(run, timeout) as Exclude<WaitOutcome, { off: true }>), error: 'still queued when the shutdown timeout expired: asked to shut down, not waited for' });
        }
        try {
          if (refused !== null) return await settle(run, rec, { off: false, why: 'failed', error: refused });
          let off: boolean;
          try {
            off = await run.watch.waitOff(guest, until, { signal: expired.signal });
          } catch (err) {
            pending.delete(guest.uuid);
            return await settle(run, rec, { off: false, why: 'failed', error: lostTrack(err) });
          }
          pending.delete(guest.uuid);
          return off ? rec.end('done') : await settle(run, rec, waitFailure(run, timeout) as Exclude<WaitOutcome, { off: true }>);
        } finally {
          pending.delete(guest.uuid);
          slots.release();
        }
      }),
    );
  } finally {
    stopTimers.abort();
    run.deadline.signal.removeEventListener('abort', onDeadline);
  }
}
