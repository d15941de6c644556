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
import type { GuestResult, StartResult, TierResult, UriResult } from './result.js';
import { migrationRecordPath, returnGuests } from './migrate.js';
import { guestPolicies, type GuestPolicy } from './guest-policies.js';
import { startTiers } from './policy/tiers.js';
import { withTimeline } from './timeline.js';
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

/** One guest of the list file, looked up, with its policy (null when it could not be looked up). */
interface StartTarget {
  run: UriStart;
  uuid: string;
  guest: GuestRef | null;
  /** why the lookup failed */
  lookupError?: unknown;
  policy: GuestPolicy | null;
}

async function lookupTargets(run: UriStart, uuids: string[]): Promise<StartTarget[]> {
  const { conn, uri, request, services } = run;
  const found = await Promise.all(
    uuids.map(async (uuid): Promise<StartTarget> => {
      try {
        return { run, uuid, guest: await conn.lookup(uuid), policy: null };
      } catch (err) {
        return { run, uuid, guest: null, lookupError: err, policy: null };
      }
    }),
  );
  const known = found.filter((t) => t.guest !== null);
  const policies = await guestPolicies(conn, uri, known.map((t) => t.guest!), request.config, services).catch(() => null);
  known.forEach((t, i) => (t.policy = policies?.[i] ?? null));
  return found;
}

/** Waits until the guest is ready by its policy (`ready`), at most ready-timeout; reported when it is not. */
async function readiness(run: UriStart, guest: GuestRef, policy: GuestPolicy | null, rec: GuestRecord): Promise<void> {
  // without `ready` in its metadata, a guest is ready when its start returns (it runs): nothing more to ask
  if (policy === null || policy.sources.ready !== 'metadata' || policy.values.ready === 'none') return;
  const ready = policy.values.ready;
  const { clock, report } = run.services;
  const seconds = policy.values['ready-timeout'];
  const until = clock.now() + seconds * 1000;
  const isReady = async (): Promise<boolean> => {
    try {
      if (ready === 'agent') await run.conn.getTime(guest);
      else if ((await run.conn.state(guest)).state !== 'running') return false;
      return true;
    } catch {
      return false; // agent not up yet (or not there at all): asked again until ready-timeout
    }
  };
  for (;;) {
    if (await isReady()) {
      rec.result.ready = ready;
      return;
    }
    if (clock.now() >= until) break;
    await clock.sleep(Math.min(READY_POLL_MS, Math.max(0, until - clock.now())));
  }
  rec.result.ready = 'timeout';
  report({ kind: 'not-ready', uri: run.uri, guest, ready, seconds });
}

const READY_POLL_MS = 250;

/**
 * Starts one guest. `gated` resolves when the next tier may start as far as this guest is concerned (its `ready`:
 * none, at once; running, once started; agent, once its agent answers), the returned promise when it is all done.
 */
function startOne(target: StartTarget, gated: () => void): Promise<{ result: GuestResult; keep: boolean }> {
  const { run, uuid } = target;
  const { request, conn, uri, services } = run;
  const work = async (): Promise<{ result: GuestResult; keep: boolean }> => {
    if (target.guest === null) {
      const rec = new GuestRecord({ uri, services }, { uuid, name: '', id: -1 }, 'start');
      if (isVirError(target.lookupError, VirErr.NO_DOMAIN)) {
        // undefined meanwhile (or a transient guest listed by the original): nothing can bring it back
        return { result: rec.end('missing', `no guest with UUID ${uuid} on ${uri} any more; dropped from the list`), keep: false };
      }
      return { result: rec.end('failed', target.lookupError), keep: true };
    }
    let guest = target.guest;
    const rec = new GuestRecord({ uri, services }, guest, 'start');
    rec.result.tier = target.policy?.order ?? null;
    if (target.policy?.values['on-boot'] === 'ignore') {
      rec.result.action = rec.result.finalAction = 'none';
      return { result: rec.end('skipped', 'on-boot=ignore (its policy): not started; dropped from the list'), keep: false };
    }
    if (request.dryRun) return { result: rec.end('planned'), keep: true };
    services.report({ kind: 'guest-begin', uri, guest, action: 'start' });
    try {
      if (guest.id !== -1) guest = await settled(conn, guest, services);
      if (guest.id !== -1) guest = await poweredOff(run, guest);
      if (guest.id !== -1 || (await conn.state(guest)).state === 'running') {
        if (request.config.SYNC_TIME) await syncTime(conn, guest, rec, uri, services);
        return { result: rec.end('already-active'), keep: false };
      }
      const started = await run.gate(() => {
        if (target.policy?.values.ready === 'none') gated();
        return conn.start(guest, { bypassCache: request.config.BYPASS_CACHE });
      });
      await readiness(run, started, target.policy, rec);
      gated();
      if (request.config.SYNC_TIME) await syncTime(conn, started, rec, uri, services);
      return { result: rec.end('done'), keep: false };
    } catch (err) {
      return { result: rec.end('failed', err), keep: true };
    }
  };
  return work().finally(gated);
}

/** One URI of the list file: connected (or not), its guests looked up with their policies. */
interface UriEntry {
  entry: ListEntry;
  /** null: ignored (not in URIS) or not reached */
  run: UriStart | null;
  targets: StartTarget[];
  result?: UriResult;
}

async function openUri(
  request: StartRequest,
  entry: ListEntry,
  gate: ReturnType<typeof startGate>,
  services: Services,
  shutdowns: ShutdownRecord,
): Promise<UriEntry> {
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
    return { entry, run: null, targets: [], result: { uri, reachable: true, ignored: true, guests } };
  }
  let conn: Connection;
  try {
    conn = await connectWithRetry(uri, { retries: config.CONNECT_RETRIES, sleepMs: config.RETRIES_SLEEP * 1000, readonly: request.dryRun }, services);
  } catch (err) {
    services.report({ kind: 'connect-failed', uri, error: errorText(err), keptInList: true });
    return { entry, run: null, targets: [], result: { uri, reachable: false, error: errorText(err), guests: [] } };
  }
  const watch = new PowerWatch(conn, services.clock);
  const run: UriStart = { request, uri, conn, gate, services, shutdowns, watch };
  try {
    if (!request.dryRun && shutdowns.has(uri)) await watch.start(); // power-off events end the waits at once
    return { entry, run, targets: await lookupTargets(run, entry.uuids) };
  } catch (err) {
    await closeUri(run);
    services.report({ kind: 'connect-failed', uri, error: errorText(err), keptInList: true });
    return { entry, run: null, targets: [], result: { uri, reachable: false, error: errorText(err), guests: [] } };
  }
}

async function closeUri(run: UriStart): Promise<void> {
  await run.watch.close();
  await run.conn.close().catch(() => undefined);
}

/**
 * Starts the tiers one after the other, ascending (the default tier last): a tier begins once every guest of the
 * one before is ready by its policy, plus the longest start-delay among them.
 */
async function startInTiers(
  uris: UriEntry[],
  services: Services,
  dryRun: boolean,
): Promise<{ outcomes: Map<StartTarget, { result: GuestResult; keep: boolean }>; tiers: TierResult[] }> {
  const { clock } = services;
  const all = uris.flatMap((u) => u.targets);
  const tiers = startTiers(all, (t) => t.policy?.order ?? null);
  const outcomes = new Map<StartTarget, { result: GuestResult; keep: boolean }>();
  const out: TierResult[] = [];
  const begunUris = new Set<UriStart>();
  // a guest with ready=none may still be starting when the next tier begins: all are awaited at the end
  const pending: Promise<void>[] = [];
  for (const tier of tiers) {
    const began = clock.now();
    if (tiers.length > 1) services.report({ kind: 'tier-begin', action: 'start', order: tier.order, guests: tier.members.length, budgetMs: null });
    for (const t of tier.members) {
      if (begunUris.has(t.run)) continue;
      begunUris.add(t.run);
      services.report({ kind: 'uri-begin', uri: t.run.uri, action: 'start' });
    }
    const gates: Promise<void>[] = [];
    const done = tier.members.map((t) => {
      let open!: () => void;
      gates.push(new Promise<void>((resolve) => (open = resolve)));
      return startOne(t, open).then((o) => void outcomes.set(t, o));
    });
    await Promise.all(gates);
    const delay = Math.max(0, ...tier.members.map((t) => (t.guest && outcomes.get(t)?.result.outcome !== 'skipped' ? (t.policy?.values['start-delay'] ?? 0) : 0)));
    if (!dryRun && delay > 0) await clock.sleep(delay * 1000);
    out.push({ order: tier.order, guests: tier.members.length, budgetMs: null, ...(dryRun ? {} : { usedMs: Math.max(0, Math.round(clock.now() - began)) }) });
    pending.push(...done);
  }
  await Promise.all(pending);
  return { outcomes, tiers: out };
}

/**
 * `start`: with MIGRATE_RETURN, the guests recorded as migrated away come back from the peer first (migrate.ts), all
 * of them before the first tier, whatever their policy's order: they run already (on the peer), and a guest that
 * comes back is running here too, so it is ready for the tiers that follow; then the guests of the list file are
 * restored or started here, tier by tier.
 */
export async function startGuests(request: StartRequest, plainServices: Services): Promise<StartResult> {
  const services = withTimeline(plainServices);
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
      return { ...base, exit: EXIT.OK, skippedReason: 'no-list', remaining: 0, tiers: [], durationMs: elapsed(), uris: [] };
    }
    if (config.ON_BOOT !== 'start') {
      services.report({ kind: 'not-starting' });
      if (!request.dryRun) {
        await services.files.remove(listFile);
        await shutdowns.keepOnly([]);
        await services.files.touch(request.lockFile);
      }
      return { ...base, exit: EXIT.OK, skippedReason: 'on-boot-ignore', remaining: 0, tiers: [], durationMs: elapsed(), uris: [] };
    }
    services.report({ kind: 'plan', action: 'start', uris: entries.map((e) => ({ uri: e.uri, guests: e.uuids.map((uuid) => ({ uuid })) })) });
    const gate = startGate(config, services);
    const opened = await Promise.all(entries.map((e) => openUri(request, e, gate, services, shutdowns)));
    let started: Awaited<ReturnType<typeof startInTiers>>;
    try {
      started = await startInTiers(opened, services, request.dryRun);
    } finally {
      await Promise.all(opened.map((u) => (u.run ? closeUri(u.run) : undefined)));
    }
    const outcomes = opened.map((u): UriOutcome => {
      if (u.result) return { result: u.result, keep: u.entry.uuids };
      const done = u.targets.map((t) => started.outcomes.get(t)!);
      return {
        result: { uri: u.entry.uri, reachable: true, backend: u.run!.conn.backend, guests: done.map((o) => o.result) },
        keep: u.targets.filter((_, i) => done[i]!.keep).map((t) => t.uuid),
      };
    });
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
    return { ...base, exit: failed ? EXIT.FAILURE : EXIT.OK, remaining: request.dryRun ? 0 : left, tiers: started.tiers, durationMs: elapsed(), uris };
  } finally {
    await lock?.release();
  }
}
