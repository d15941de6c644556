// Guests that go to a peer host and come back: ON_SHUTDOWN=migrate at stop (a guest that cannot be migrated gets the
// local action, MIGRATE_FALLBACK: none is left running unhandled), `evacuate` (on demand, no fallback: a guest
// that cannot go stays running here), `return` and `start` (MIGRATE_RETURN) bringing them back. Every migration is
// one peer-to-peer call on the source's daemon, which drives the destination itself (Connection.migrate). Where
// the guests went is recorded beside the list file (`<list file>.migrated`, JSON); the list file keeps only the
// guests saved or shut down here, so the original script can still read it (and never starts a guest that runs on
// the peer).
import pLimit from 'p-limit';
import type { Connection, GuestInfo, GuestRef } from '../connect/connection.js';
import type { GuestsConfig, LocalAction } from '../config/variables.js';
import { EXIT, StateFileError, UsageError } from '../errors.js';
import { isVirError, VirErr } from '../libvirt/error.js';
import { connectWithRetry } from './connect-retry.js';
import type { GuestResult, MigrateResult, UriResult } from './result.js';
import { errorText, takeRunLock, type Services } from './services.js';
import { GuestRecord, type UriRun } from './uri-run.js';

export interface AwayGuest {
  /** the URI the guest left from (and returns to) */
  uri: string;
  /** the peer it runs on */
  peer: string;
  uuid: string;
  name: string;
  /** when it left, ISO 8601 */
  at: string;
}

const isAwayGuest = (g: unknown): g is AwayGuest =>
  typeof g === 'object' && g !== null && ['uri', 'peer', 'uuid', 'name'].every((k) => typeof (g as Record<string, unknown>)[k] === 'string');

export const migrationRecordPath = (listFile: string): string => `${listFile}.migrated`;

/** the guests recorded as away; a record that cannot be read is an error (it must not be lost by a rewrite) */
export async function readMigrationRecord(services: Services, listFile: string): Promise<AwayGuest[]> {
  const file = migrationRecordPath(listFile);
  const text = await services.files.readText(file);
  if (text === null) return [];
  try {
    const parsed = JSON.parse(text) as { version?: number; guests?: unknown[] };
    if (parsed.version === 1 && Array.isArray(parsed.guests) && parsed.guests.every(isAwayGuest)) return parsed.guests;
  } catch {
    /* below */
  }
  throw new StateFileError(file, 'not a record of migrated guests (JSON with "version": 1 and "guests", each with uri, peer, uuid and name)', {
    hint: 'Look at the file: it says on which peer each guest runs. Move it away once the guests are back.',
  });
}

async function writeMigrationRecord(services: Services, listFile: string, guests: AwayGuest[]): Promise<void> {
  const file = migrationRecordPath(listFile);
  if (guests.length === 0) await services.files.remove(file);
  else await services.files.writeAtomic(file, `${JSON.stringify({ version: 1, guests }, null, 2)}\n`, 0o600);
}

/** adds `away` to the record (a guest recorded again replaces its old entry); failures are reported, not thrown */
export async function recordAway(services: Services, listFile: string, away: AwayGuest[]): Promise<string | undefined> {
  if (away.length === 0) return undefined;
  try {
    const uuids = new Set(away.map((g) => g.uuid));
    const kept = (await readMigrationRecord(services, listFile)).filter((g) => !uuids.has(g.uuid));
    await writeMigrationRecord(services, listFile, [...kept, ...away]);
    return undefined;
  } catch (err) {
    services.report({ kind: 'migrations-unrecorded', file: migrationRecordPath(listFile), error: errorText(err) });
    return errorText(err);
  }
}

type Migrated<G extends GuestInfo = GuestInfo> = { result: GuestResult } | { guest: G; error: string };

/** one guest to `peer`, within MIGRATE_TIMEOUT and the stop's deadline; on failure the guest runs on here */
async function migrateOne<G extends GuestInfo>(
  run: Pick<UriRun, 'uri' | 'conn' | 'config' | 'services'>,
  guest: G,
  peer: string,
  signal?: AbortSignal,
): Promise<Migrated<G>> {
  const { services, config } = run;
  const rec = new GuestRecord(run, guest, 'migrate');
  services.report({ kind: 'guest-begin', uri: run.uri, guest, action: 'migrate', to: peer });
  const timeout = new AbortController();
  const stopTimer = new AbortController();
  if (config.MIGRATE_TIMEOUT > 0) {
    services.clock.sleep(config.MIGRATE_TIMEOUT * 1000, stopTimer.signal).then(
      () => timeout.abort(new Error(`MIGRATE_TIMEOUT (${config.MIGRATE_TIMEOUT} s) expired`)),
      () => undefined,
    );
  }
  try {
    await run.conn.migrate(guest, peer, {
      live: config.MIGRATE_LIVE,
      persistent: true,
      undefineSource: true,
      signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
    });
    rec.result.migratedTo = peer;
    return { result: rec.end('done') };
  } catch (err) {
    const why = timeout.signal.aborted ? `${errorText(timeout.signal.reason)}: the migration was aborted` : errorText(err);
    rec.result.migrateError = why;
    return { guest, error: why };
  } finally {
    stopTimer.abort();
  }
}

/**
 * The stop's migrate action on one URI: every target to MIGRATE_URI, PARALLEL_MIGRATE at a time; the guests that
 * could not go get `local` (suspend or shutdown, with their own fallbacks) and their results say so. A guest that
 * went has `migratedTo` in its result (stop records those beside the list file).
 */
export async function migrateOrFallBack<G extends GuestInfo>(
  run: UriRun,
  targets: G[],
  local: LocalAction,
  actLocally: (guests: G[]) => Promise<GuestResult[]>,
): Promise<GuestResult[]> {
  const peer = run.config.MIGRATE_URI;
  const limit = pLimit(run.config.PARALLEL_MIGRATE);
  // a per-guest on-shutdown=migrate without MIGRATE_URI: nowhere to go, every guest gets the fallback
  const tried: Migrated<G>[] =
    peer === ''
      ? targets.map((guest) => ({ guest, error: 'MIGRATE_URI is not set: there is no peer to migrate to' }))
      : await Promise.all(targets.map((g) => limit(() => migrateOne(run, g, peer, run.deadline.signal))));
  const moved = tried.flatMap((t) => ('result' in t ? [t.result] : []));
  const failed = tried.flatMap((t) => ('guest' in t ? [t] : []));
  for (const f of failed) run.services.report({ kind: 'fallback', uri: run.uri, guest: f.guest, from: 'migrate', to: local, reason: f.error });
  const localResults = failed.length > 0 ? await actLocally(failed.map((f) => f.guest)) : [];
  // by UUID: the local runner may answer in another order (shutdowns are grouped by timeout)
  const why = new Map(failed.map((f) => [f.guest.uuid, f.error]));
  const fellBack = localResults.map((r): GuestResult => ({
    ...r,
    action: 'migrate',
    fallback: [local, ...r.fallback],
    migrateError: why.get(r.uuid) ?? '',
  }));
  return [...moved, ...fellBack];
}

// ---- evacuate and return (commands), and start bringing guests back

export interface EvacuateRequest {
  config: GuestsConfig;
  /** the peer; MIGRATE_URI when absent */
  to?: string;
  /** only these guests (names or UUIDs); every running guest when empty */
  names: string[];
  dryRun: boolean;
  listFile: string;
}

export interface ReturnRequest {
  config: GuestsConfig;
  dryRun: boolean;
  listFile: string;
  /** the caller (start) holds the run lock already */
  lockHeld?: boolean;
}

function connectTo(config: GuestsConfig, uri: string, dryRun: boolean, services: Services): Promise<Connection> {
  return connectWithRetry(uri, { retries: config.CONNECT_RETRIES, sleepMs: config.RETRIES_SLEEP * 1000, readonly: dryRun }, services);
}

const resultOf = (uri: string, guest: GuestRef, outcome: GuestResult['outcome'], error?: string): GuestResult => ({
  uri,
  uuid: guest.uuid,
  name: guest.name,
  action: 'migrate',
  finalAction: 'migrate',
  outcome,
  durationMs: 0,
  fallback: [],
  ...(error !== undefined ? { error } : {}),
});

function exitOf(uris: UriResult[], recordError: string | undefined): MigrateResult['exit'] {
  const failed = recordError !== undefined || uris.some((u) => !u.reachable || u.guests.some((g) => g.outcome === 'failed' || g.outcome === 'missing'));
  return failed ? EXIT.FAILURE : EXIT.OK;
}

/** drain this host: the running guests (or the named ones) of every URI go to the peer; none is stopped here */
export async function evacuate(request: EvacuateRequest, services: Services): Promise<MigrateResult> {
  const { config, listFile } = request;
  const startedAt = services.clock.now();
  const to = request.to ?? config.MIGRATE_URI;
  const recordFile = migrationRecordPath(listFile);
  if (to === '') throw new UsageError('no peer to evacuate to', { hint: 'Name it with --to URI, or set MIGRATE_URI in the configuration.' });
  const lock = await takeRunLock(services, listFile, config.LOCK_TIMEOUT, request.dryRun);
  try {
    const wanted = new Set(request.names);
    const found = new Set<string>();
    const uris = await Promise.all(
      config.URIS.map(async (uri): Promise<{ result: UriResult; away: AwayGuest[] }> => {
        let conn: Connection;
        try {
          conn = await connectTo(config, uri, request.dryRun, services);
        } catch (err) {
          services.report({ kind: 'connect-failed', uri, error: errorText(err) });
          return { result: { uri, reachable: false, error: errorText(err), guests: [] }, away: [] };
        }
        try {
          const running = (await conn.listGuests({ which: 'active' })).filter(
            (g) => wanted.size === 0 || wanted.has(g.name) || wanted.has(g.uuid),
          );
          for (const g of running) found.add(wanted.has(g.name) ? g.name : g.uuid);
          services.report({ kind: 'plan', action: 'migrate', uris: [{ uri, guests: running.map((g) => ({ uuid: g.uuid, name: g.name })) }] });
          if (request.dryRun) {
            return { result: { uri, reachable: true, backend: conn.backend, guests: running.map((g) => ({ ...resultOf(uri, g, 'planned'), migratedTo: to })) }, away: [] };
          }
          services.report({ kind: 'uri-begin', uri, action: 'migrate' });
          const limit = pLimit(config.PARALLEL_MIGRATE);
          const run = { uri, conn, config, services };
          const tried = await Promise.all(running.map((g) => limit(() => migrateOne(run, g, to))));
          const guests = tried.map((t) => {
            if ('result' in t) return t.result;
            const r = { ...resultOf(uri, t.guest, 'failed', `${t.error}; the guest runs on here`), persistent: t.guest.persistent };
            services.report({ kind: 'guest-end', result: r });
            return r;
          });
          const at = new Date(services.clock.now()).toISOString();
          const away = guests.filter((g) => g.outcome === 'done').map((g): AwayGuest => ({ uri, peer: to, uuid: g.uuid, name: g.name, at }));
          return { result: { uri, reachable: true, backend: conn.backend, guests }, away };
        } finally {
          await conn.close().catch(() => undefined);
        }
      }),
    );
    const results = uris.map((u) => u.result);
    for (const name of wanted) {
      if (found.has(name)) continue;
      const r = resultOf(config.URIS[0] ?? '', { uuid: '', name, id: -1 }, 'missing', 'no running guest of this name or UUID on any URI');
      services.report({ kind: 'guest-end', result: r });
      (results[0] ??= { uri: '', reachable: false, guests: [] }).guests.push(r);
    }
    const recordError = request.dryRun ? undefined : await recordAway(services, listFile, uris.flatMap((u) => u.away));
    const away = request.dryRun ? 0 : (await readMigrationRecord(services, listFile).catch(() => [])).length;
    services.report({ kind: 'finished' });
    return {
      command: 'evacuate',
      exit: exitOf(results, recordError),
      dryRun: request.dryRun,
      to,
      recordFile,
      away,
      durationMs: Math.round(services.clock.now() - startedAt),
      uris: results,
    };
  } finally {
    await lock?.release();
  }
}

/**
 * Bring back every guest recorded as away: the peer's daemon migrates each to MIGRATE_RETURN_URI (or the URI it left
 * from). A guest that no longer exists on the peer is dropped from the record; one that fails stays recorded.
 */
export async function returnGuests(request: ReturnRequest, services: Services): Promise<MigrateResult> {
  const { config, listFile } = request;
  const startedAt = services.clock.now();
  const lock = await takeRunLock(services, listFile, config.LOCK_TIMEOUT, request.dryRun || request.lockHeld === true);
  try {
    const away = await readMigrationRecord(services, listFile);
    const peers = [...new Set(away.map((g) => g.peer))];
    services.report({
      kind: 'plan',
      action: 'migrate',
      uris: peers.map((peer) => ({ uri: peer, guests: away.filter((g) => g.peer === peer).map((g) => ({ uuid: g.uuid, name: g.name })) })),
    });
    const stillAway: AwayGuest[] = [];
    const uris = await Promise.all(
      peers.map(async (peer): Promise<UriResult> => {
        const mine = away.filter((g) => g.peer === peer);
        let conn: Connection;
        try {
          conn = await connectTo(config, peer, request.dryRun, services);
        } catch (err) {
          services.report({ kind: 'connect-failed', uri: peer, error: errorText(err), keptInList: true });
          stillAway.push(...mine);
          return { uri: peer, reachable: false, error: errorText(err), guests: [] };
        }
        try {
          services.report({ kind: 'uri-begin', uri: peer, action: 'migrate' });
          const limit = pLimit(config.PARALLEL_MIGRATE);
          const run = { uri: peer, conn, config, services };
          const guests = await Promise.all(
            mine.map((entry) =>
              limit(async (): Promise<GuestResult> => {
                const back = config.MIGRATE_RETURN_URI || entry.uri;
                let guest: GuestRef;
                try {
                  guest = await conn.lookup(entry.uuid);
                } catch (err) {
                  // only a guest the peer says it does not have leaves the record; any other error keeps it there
                  const gone = isVirError(err, VirErr.NO_DOMAIN);
                  if (!gone) stillAway.push(entry);
                  const r = gone
                    ? resultOf(peer, { ...entry, id: -1 }, 'missing', `not on the peer any more (${errorText(err)}): ${request.dryRun ? 'would be dropped' : 'dropped'} from the record`)
                    : resultOf(peer, { ...entry, id: -1 }, 'failed', `cannot look it up on the peer (${errorText(err)}); it stays in the record, run return again`);
                  services.report({ kind: 'guest-end', result: r });
                  return r;
                }
                if (request.dryRun) {
                  stillAway.push(entry);
                  return { ...resultOf(peer, guest, 'planned'), migratedTo: back };
                }
                const tried = await migrateOne(run, { ...guest, state: 'running', persistent: true }, back);
                if ('result' in tried) return tried.result;
                stillAway.push(entry);
                const r = resultOf(peer, guest, 'failed', `${tried.error}; the guest runs on at the peer`);
                services.report({ kind: 'guest-end', result: r });
                return r;
              }),
            ),
          );
          return { uri: peer, reachable: true, backend: conn.backend, guests };
        } finally {
          await conn.close().catch(() => undefined);
        }
      }),
    );
    let recordError: string | undefined;
    if (!request.dryRun && away.length > 0) {
      try {
        await writeMigrationRecord(services, listFile, away.filter((g) => stillAway.includes(g)));
      } catch (err) {
        recordError = errorText(err);
        services.report({ kind: 'migrations-unrecorded', file: migrationRecordPath(listFile), error: recordError });
      }
    }
    services.report({ kind: 'finished' });
    const missingIsFine = uris.map((u) => ({ ...u, guests: u.guests.filter((g) => g.outcome !== 'missing') }));
    return {
      command: 'return',
      exit: exitOf(missingIsFine, recordError),
      dryRun: request.dryRun,
      recordFile: migrationRecordPath(listFile),
      away: stillAway.length,
      durationMs: Math.round(services.clock.now() - startedAt),
      uris,
    };
  } finally {
    await lock?.release();
  }
}
