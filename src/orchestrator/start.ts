// `start`: bring back the guests of the list file. `start` on a guest restores its managed save image when it has
// one. Only guests that were handled leave the list: a URI that cannot be reached, or a guest that fails to start,
// keeps its place for the next `start` (the original deleted the whole list and lost them). A guest still being saved
// or powered off by a stop that did not finish is waited for before deciding: taken for running, it would be lost.
import pLimit from 'p-limit';
import type { Connection, GuestRef } from '../connect/connection.js';
import type { GuestsConfig } from '../config/variables.js';
import { EXIT } from '../errors.js';
import { isVirError, VirErr } from '../libvirt/error.js';
import { connectWithRetry } from './connect-retry.js';
import { readListFile, writeListFile, type ListEntry } from './list-file.js';
import type { GuestResult, StartResult, UriResult } from './result.js';
import { migrationRecordPath, returnGuests } from './migrate.js';
import { PowerWatch } from './power-watch.js';
import { errorText, loadShutdownRecord, takeRunLock, type Services } from './services.js';
import type { ShutdownRecord } from './shutdown-record.js';
import { GuestRecord } from './uri-run.js';

export interface StartRequest {
  config: GuestsConfig;
  dryRun: boolean;
  listFile: string;
  lockFile: string;
  /** the caller (restart) holds the run lock already */
  lockHeld?: boolean;
  /** the guests to start instead of the list file's: a dry-run restart plans from what its stop would record */
  list?: ListEntry[];
}

/**
 * Spacing of starts across every URI: START_DELAY seconds between two starts (not before the first), or, with
 * START_DELAY=0, up to PARALLEL_START at the same time.
 */
function startGate(config: GuestsConfig, services: Services): <T>(work: () => Promise<T>) => Promise<T> {
  if (config.START_DELAY === 0) return pLimit(config.PARALLEL_START);
  const serial = pLimit(1);
  let first = true;
  return (work) =>
    serial(async () => {
      if (!first) await services.clock.sleep(config.START_DELAY * 1000);
      first = false;
      return work();
    });
}

interface UriOutcome {
  result: UriResult;
  /** UUIDs that stay in the list */
  keep: string[];
}

async function syncTime(conn: Connection, guest: GuestRef, rec: GuestRecord, uri: string, services: Services): Promise<void> {
  try {
    await conn.setTime(guest, { sync: true });
    rec.result.timeSync = 'done';
  } catch (err) {
    rec.result.timeSync = 'failed';
    rec.result.timeSyncError = errorText(err);
    services.report({ kind: 'time-sync-failed', uri, guest, error: errorText(err) });
  }
}

/** what is shared by the starts of one URI */
interface UriStart {
  request: StartRequest;
  uri: string;
  conn: Connection;
  gate: ReturnType<typeof startGate>;
  services: Services;
  shutdowns: ShutdownRecord;
  watch: PowerWatch;
}

/** the longest wait for a save or a shutdown still under way when start looks */
const JOB_WAIT_MS = 300_000;

/**
 * A guest may still be in the middle of a save (a stop killed half-way, or still finishing on the host): whether it
 * will be running or saved is only known when that job ends, so wait for it (bounded) and look again.
 */
async function settled(conn: Connection, guest: GuestRef, services: Services): Promise<GuestRef> {
  const until = services.clock.now() + JOB_WAIT_MS;
  while (services.clock.now() < until) {
    const job = await conn.jobInfo(guest).catch(() => ({ type: 'none' as const }));
    if (job.type !== 'bounded' && job.type !== 'unbounded') break;
    await services.clock.sleep(250);
  }
  return conn.lookup(guest.uuid);
}

/**
 * A guest may still be powering off: a stop asked it to shut down and was killed before it was off (the record of
 * asked shutdowns names it, under the id it still has), or libvirt reports it in the 'shutdown' state. Taken for
 * running, it would be dropped from the list and lost when it goes off, so wait until it is off, as long as the stop
 * would have waited (SHUTDOWN_TIMEOUT from the request; 300 s when that is 0), and look again.
 */
async function poweredOff(run: UriStart, guest: GuestRef): Promise<GuestRef> {
  const { clock, report } = run.services;
  const asked = run.shutdowns.find(run.uri, guest.uuid);
  const goingOff = asked?.id === guest.id || (await run.conn.state(guest)).state === 'shutdown';
  if (!goingOff) return guest;
  const timeout = run.request.config.SHUTDOWN_TIMEOUT;
  const limit = timeout > 0 ? timeout * 1000 : JOB_WAIT_MS;
  const now = clock.now();
  const until = Math.min(now + limit, (asked?.at ?? now) + limit);
  if (until <= now) return guest; // the stop would have given up on it by now
  const tick = (msLeft: number | null): void =>
    report({ kind: 'guest-waiting', uri: run.uri, guest, secondsLeft: msLeft === null ? null : Math.ceil(msLeft / 1000) });
  tick(until - now);
  await run.watch.waitOff(guest, until, { tick });
  return run.conn.lookup(guest.uuid);
}

async function startOne(run: UriStart, uuid: string): Promise<{ result: GuestResult; keep: boolean }> {
  const { request, conn, uri, services } = run;
  let guest: GuestRef;
  try {
    guest = await conn.lookup(uuid);
  } catch (err) {
    const rec = new GuestRecord({ uri, services }, { uuid, name: '', id: -1 }, 'start');
    if (isVirError(err, VirErr.NO_DOMAIN)) {
      // undefined meanwhile (or a transient guest listed by the original): nothing can bring it back
      return { result: rec.end('missing', `no guest with UUID ${uuid} on ${uri} any more; dropped from the list`), keep: false };
    }
    return { result: rec.end('failed', err), keep: true };
  }
  const rec = new GuestRecord({ uri, services }, guest, 'start');
  if (request.dryRun) return { result: rec.end('planned'), keep: true };
  services.report({ kind: 'guest-begin', uri, guest, action: 'start' });
  try {
    if (guest.id !== -1) guest = await settled(conn, guest, services);
    if (guest.id !== -1) guest = await poweredOff(run, guest);
    if (guest.id !== -1 || (await conn.state(guest)).state === 'running') {
      if (request.config.SYNC_TIME) await syncTime(conn, guest, rec, uri, services);
      return { result: rec.end('already-active'), keep: false };
    }
    const started = await run.gate(() => conn.start(guest, { bypassCache: request.config.BYPASS_CACHE }));
    if (request.config.SYNC_TIME) await syncTime(conn, started, rec, uri, services);
    return { result: rec.end('done'), keep: false };
  } catch (err) {
    return { result: rec.end('failed', err), keep: true };
  }
}

async function startUri(
  request: StartRequest,
  entry: ListEntry,
  gate: ReturnType<typeof startGate>,
  services: Services,
  shutdowns: ShutdownRecord,
): Promise<UriOutcome> {
  const { config } = request;
  const { uri } = entry;
  if (!config.URIS.includes(uri)) {
    services.report({ kind: 'ignoring-uri', uri });
    const guests = entry.uuids.map(
      (uuid): GuestResult => ({
        uri,
        uuid,
        name: '',
        action: 'none',
        finalAction: 'none',
        outcome: 'skipped',
        durationMs: 0,
        fallback: [],
        error: 'URI not in URIS: kept in the list',
      }),
    );
    return { result: { uri, reachable: true, ignored: true, guests }, keep: entry.uuids };
  }
  let conn: Connection;
  try {
    conn = await connectWithRetry(uri, { retries: config.CONNECT_RETRIES, sleepMs: config.RETRIES_SLEEP * 1000, readonly: request.dryRun }, services);
  } catch (err) {
    services.report({ kind: 'connect-failed', uri, error: errorText(err), keptInList: true });
    return { result: { uri, reachable: false, error: errorText(err), guests: [] }, keep: entry.uuids };
  }
  const watch = new PowerWatch(conn, services.clock);
  try {
    services.report({ kind: 'uri-begin', uri, action: 'start' });
    if (!request.dryRun && shutdowns.has(uri)) await watch.start(); // power-off events end the waits at once
    const run: UriStart = { request, uri, conn, gate, services, shutdowns, watch };
    const outcomes = await Promise.all(entry.uuids.map((uuid) => startOne(run, uuid)));
    return {
      result: { uri, reachable: true, backend: conn.backend, guests: outcomes.map((o) => o.result) },
      keep: entry.uuids.filter((_, i) => outcomes[i]!.keep),
    };
  } finally {
    await watch.close();
    await conn.close().catch(() => undefined);
  }
}

/**
 * `start`: with MIGRATE_RETURN, the guests recorded as migrated away come back from the peer first (migrate.ts);
 * then the guests of the list file are restored or started here.
 */
export async function startGuests(request: StartRequest, services: Services): Promise<StartResult> {
  const { config, listFile } = request;
  if (!config.MIGRATE_RETURN || !(await services.files.exists(migrationRecordPath(listFile)))) return startListed(request, services);
  const startedAt = services.clock.now();
  const lock = await takeRunLock(services, listFile, config.LOCK_TIMEOUT, request.dryRun || request.lockHeld === true);
  try {
    const quiet: Services = { ...services, report: (e) => (e.kind === 'finished' ? undefined : services.report(e)) };
    let back: UriResult[];
    let backExit: StartResult['exit'] = EXIT.OK;
    try {
      const returned = await returnGuests({ config, dryRun: request.dryRun, listFile, lockHeld: true }, quiet);
      back = returned.uris;
      backExit = returned.exit;
    } catch (err) {
      // a record that cannot be read must not keep the guests of this host from starting
      services.report({ kind: 'migrations-unrecorded', file: migrationRecordPath(listFile), error: errorText(err) });
      back = [];
      backExit = EXIT.FAILURE;
    }
    const listed = await startListed({ ...request, lockHeld: true }, services);
    return {
      ...listed,
      exit: backExit !== EXIT.OK ? backExit : listed.exit,
      durationMs: Math.round(services.clock.now() - startedAt),
      uris: [...back, ...listed.uris],
    };
  } finally {
    await lock?.release();
  }
}

async function startListed(request: StartRequest, services: Services): Promise<StartResult> {
  const { config, listFile } = request;
  const startedAt = services.clock.now();
  const lock = await takeRunLock(services, listFile, config.LOCK_TIMEOUT, request.dryRun || request.lockHeld === true);
  const base = { command: 'start' as const, dryRun: request.dryRun, listFile };
  const elapsed = (): number => Math.round(services.clock.now() - startedAt);
  try {
    const entries = request.list ? (request.list.length > 0 ? request.list : null) : await readListFile(services.files, listFile);
    const shutdowns = await loadShutdownRecord(services, listFile);
    if (entries === null) {
      if (!request.dryRun) {
        await shutdowns.keepOnly([]);
        await services.files.touch(request.lockFile);
      }
      return { ...base, exit: EXIT.OK, skippedReason: 'no-list', remaining: 0, durationMs: elapsed(), uris: [] };
    }
    if (config.ON_BOOT !== 'start') {
      services.report({ kind: 'not-starting' });
      if (!request.dryRun) {
        await services.files.remove(listFile);
        await shutdowns.keepOnly([]);
        await services.files.touch(request.lockFile);
      }
      return { ...base, exit: EXIT.OK, skippedReason: 'on-boot-ignore', remaining: 0, durationMs: elapsed(), uris: [] };
    }
    services.report({ kind: 'plan', action: 'start', uris: entries.map((e) => ({ uri: e.uri, guests: e.uuids.map((uuid) => ({ uuid })) })) });
    const gate = startGate(config, services);
    const outcomes = await Promise.all(entries.map((e) => startUri(request, e, gate, services, shutdowns)));
    const remaining: ListEntry[] = entries.map((e, i) => ({ uri: e.uri, uuids: outcomes[i]!.keep }));
    const left = remaining.reduce((n, e) => n + e.uuids.length, 0);
    if (!request.dryRun) {
      if (left > 0) await writeListFile(services.files, listFile, remaining);
      else await services.files.remove(listFile);
      await shutdowns.keepOnly(remaining);
      await services.files.touch(request.lockFile);
    }
    const uris = outcomes.map((o) => o.result);
    const failed = uris.some((u) => !u.reachable || u.guests.some((g) => g.outcome === 'failed'));
    services.report({ kind: 'finished' });
    return { ...base, exit: failed ? EXIT.FAILURE : EXIT.OK, remaining: request.dryRun ? 0 : left, durationMs: elapsed(), uris };
  } finally {
    await lock?.release();
  }
}
