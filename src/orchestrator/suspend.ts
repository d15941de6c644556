// Suspending guests with managed save, PARALLEL_SUSPEND at a time (the original saved one after the other), with
// progress per guest. With FALLBACK=1 a failed save becomes a shutdown, and a shutdown that does not finish in time
// becomes a destroy. The stop deadline aborts saves still running (a partial image is useless).
import pLimit from 'p-limit';
import type { GuestInfo } from '../connect/connection.js';
import { isConnectionLoss } from '../connect/connection-loss.js';
import { askAgainAfterLoss } from './ask-again.js';
import type { GuestResult } from './result.js';
import { destroyFallback, shutdownAndWait } from './shutdown.js';
import { errorText } from './services.js';
import { GuestRecord, type UriRun } from './uri-run.js';

export async function suspendGuests(run: UriRun, guests: GuestInfo[]): Promise<GuestResult[]> {
  const limit = pLimit(run.config.PARALLEL_SUSPEND);
  return Promise.all(guests.map((guest) => limit(() => suspendOne(run, guest))));
}

const DEADLINE = 'the stop deadline (STOP_DEADLINE) expired before the save finished; the save was aborted';

async function suspendOne(run: UriRun, guest: GuestInfo): Promise<GuestResult> {
  const rec = new GuestRecord(run, guest, 'suspend');
  const { report } = run.services;
  if (run.deadline.signal.aborted) {
    return run.config.FALLBACK ? destroyFallback(run, rec, 'suspend', DEADLINE) : rec.end('aborted', DEADLINE);
  }
  report({ kind: 'guest-begin', uri: run.uri, guest, action: 'suspend' });
  let total: number | undefined;
  let processed = 0;
  try {
    await run.conn.managedSave(guest, {
      bypassCache: run.config.BYPASS_CACHE,
      signal: run.deadline.signal,
      progressIntervalMs: 1000,
      onProgress: (p) => {
        if (p.dataProcessed === undefined) return;
        processed = p.dataProcessed;
        total = p.dataTotal ?? total;
        report({ kind: 'save-progress', uri: run.uri, guest, processed, total });
      },
    });
    const bytes = total ?? (processed > 0 ? processed : undefined);
    if (bytes !== undefined) rec.result.bytes = bytes;
    return rec.end('done');
  } catch (err) {
    if (run.deadline.signal.aborted) {
      return run.config.FALLBACK ? destroyFallback(run, rec, 'suspend', DEADLINE) : rec.end('aborted', DEADLINE);
    }
    // the daemon went away mid-save (stopped by the host's shutdown, crashed): the save may be complete all the same
    if (isConnectionLoss(err)) {
      const finding = await askAgainAfterLoss(run, guest, err);
      return finding.saved ? rec.end('done') : rec.end('failed', `${errorText(err)}; ${finding.found}`);
    }
    if (!run.config.FALLBACK) return rec.end('failed', err);
    rec.fallbackTo('shutdown', 'suspend', err);
    const wait = await shutdownAndWait(run, guest, true);
    if (wait.off) return rec.end('done');
    return destroyFallback(run, rec, 'shutdown', wait.error);
  }
}
