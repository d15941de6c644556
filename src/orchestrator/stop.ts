// `stop` and `shutdown`: record which guests run, then suspend or shut them down, every URI at the same time.
//
// Order matters for the night the host goes down: (1) list the running guests of every URI, (2) write the list
// file atomically, merged with any list a previous stop left behind (the original's stop silently did nothing when
// a list existed), (3) only then touch guests. A kill at any moment leaves a list that `start` can act on.
import type { GuestsConfig } from '../config/variables.js';
import { EXIT, StateFileError } from '../errors.js';
import { mergeLists, readListFile, writeListFile, type ListEntry } from './list-file.js';
import { recordAway, type AwayGuest } from './migrate.js';
import type { StopResult, TierResult, UriResult } from './result.js';
import { errorText, loadShutdownRecord, takeRunLock, type Services } from './services.js';
import { planUri, plannedResults, skippedResults, uriResult, type StopRequest, type UriPlan } from './stop-plan.js';
import { plannedTiers, stopTiersInTurn, tiersOf } from './stop-tiers.js';
import { sharedByGuests, type Deadline } from './uri-run.js';
import { withTimeline } from './timeline.js';

export type { StopRequest };

/** Each keep-alive asks systemd for KEEPALIVE_MS more, every KEEPALIVE_EVERY_MS. */
const KEEPALIVE_MS = 30_000;
const KEEPALIVE_EVERY_MS = 10_000;
/** After STOP_DEADLINE: time to abort the saves still running and power guests off (FALLBACK=1). */
export const DEADLINE_GRACE_MS = 15_000;

/**
 * Starts the deadline timer and the systemd keep-alive; returns the deadline, a function to report progress to
 * systemd (at most once a second), and a function that stops both timers.
 */
function watchTime(
  config: GuestsConfig,
  services: Services,
  progress: () => string,
): { deadline: Deadline; progressed: () => void; done: () => void } {
  const { clock, supervisor } = services;
  const controller = new AbortController();
  const stop = new AbortController();
  const at = config.STOP_DEADLINE > 0 ? clock.now() + config.STOP_DEADLINE * 1000 : null;
  if (at !== null) {
    clock.sleep(at - clock.now(), stop.signal).then(
      () => {
        services.report({ kind: 'deadline-expired', seconds: config.STOP_DEADLINE });
        controller.abort(new Error('stop deadline expired'));
      },
      () => undefined,
    );
  }
  let lastStatus = 0;
  const progressed = (): void => {
    if (clock.now() - lastStatus < 1000) return;
    lastStatus = clock.now();
    supervisor.status(progress());
  };
  // Keep systemd's stop timeout from killing a long save half-way: 30 s more every 10 s while we work. With
  // STOP_DEADLINE never past the deadline plus a grace for aborting and powering off, so that systemd's timeout
  // follows STOP_DEADLINE and a hung stop cannot hold the host's poweroff beyond it.
  void (async () => {
    for (;;) {
      const left = at === null ? KEEPALIVE_MS : Math.min(KEEPALIVE_MS, at + DEADLINE_GRACE_MS - clock.now());
      if (left <= 0) return;
      supervisor.extendTimeout(left);
      try {
        await clock.sleep(KEEPALIVE_EVERY_MS, stop.signal);
      } catch {
        return;
      }
      lastStatus = 0;
      progressed();
    }
  })();
  return { deadline: { at, signal: controller.signal }, progressed, done: () => stop.abort() };
}

/**
 * The list an earlier stop left behind. One that cannot be read (malformed, or a directory or FIFO in its place)
 * must not keep tonight's guests from being saved: it is moved aside (never deleted; the message says where) and the
 * stop goes on with a fresh list.
 */
async function readLeftover(services: Services, listFile: string, dryRun: boolean): Promise<ListEntry[]> {
  try {
    return (await readListFile(services.files, listFile)) ?? [];
  } catch (err) {
    if (!(err instanceof StateFileError) || !(await services.files.exists(listFile))) throw err;
    const movedTo = `${listFile}.malformed-${new Date(services.clock.now()).toISOString().replace(/[:.]/g, '')}`;
    if (!dryRun) await services.files.rename(listFile, movedTo);
    services.report({ kind: 'list-set-aside', error: errorText(err), movedTo, moved: !dryRun });
    return [];
  }
}

/**
 * One step on the list file (reading the leftover, writing the new list before any guest is touched). When the file
 * fails us (a list that cannot even be moved aside, a full disk), the guests are acted on all the same: a guest saved
 * or shut down without a record is better off than one killed with the host. Returns why it failed, if it did.
 */
async function listStep(services: Services, step: () => Promise<void>): Promise<string | undefined> {
  try {
    await step();
    return undefined;
  } catch (err) {
    if (!(err instanceof StateFileError)) throw err;
    services.report({ kind: 'list-unwritable', error: errorText(err) });
    return errorText(err);
  }
}

export async function stopGuests(request: StopRequest, services: Services): Promise<StopResult> {
  const { config, listFile } = request;
  const startedAt = services.clock.now();
  let handled = 0;
  let total = 0;
  const verb = { suspend: 'Suspending', shutdown: 'Shutting down', migrate: 'Migrating' }[request.action];
  // before the lock: systemd's stop timeout must not fire while another run (a cron job) finishes
  const timing = watchTime(config, services, () => `${verb} guests: ${handled} of ${total} done`);
  const lock = await takeRunLock(services, listFile, config.LOCK_TIMEOUT, request.dryRun || request.lockHeld === true).catch((err: unknown) => {
    timing.done();
    throw err;
  });
  const countEnds = (event: Parameters<Services['report']>[0]): void => {
    if (event.kind === 'guest-end') handled++;
    if (event.kind === 'guest-end' || event.kind === 'plan') timing.progressed();
  };
  const timed = withTimeline(services);
  const counting: Services = { ...timed, report: (e) => (countEnds(e), timed.report(e)) };
  const plans: UriPlan[] = [];
  try {
    let leftover: ListEntry[] = [];
    let listError = await listStep(services, async () => {
      leftover = await readLeftover(services, listFile, request.dryRun);
    });
    plans.push(...(await Promise.all(config.URIS.map((uri) => planUri(request, uri, counting, timing.deadline)))));
    total = plans.reduce((n, p) => n + p.targets.length, 0);
    sharedByGuests(timing.deadline.signal, total + plans.length); // a save or a wait per guest, a watcher per URI
    counting.report({
      kind: 'plan',
      action: request.action,
      uris: plans.filter((p) => p.conn).map((p) => ({ uri: p.uri, guests: p.targets.map((g) => ({ uuid: g.uuid, name: g.name })) })),
    });

    // Transient guests cannot come back (they are gone once stopped), so only persistent ones are listed.
    const fresh: ListEntry[] = plans.map((p) => ({ uri: p.uri, uuids: p.targets.filter((g) => g.persistent).map((g) => g.uuid) }));
    let list = mergeLists(leftover, fresh).filter((e) => e.uuids.length > 0);
    let uriResults: UriResult[];
    const tiers = tiersOf(plans);
    let tierResults: { tiers: TierResult[]; reserveMs?: number };
    if (request.dryRun) {
      tierResults = plannedTiers(config, tiers);
      uriResults = plans.map((p) => uriResult(p, [...plannedResults(p), ...skippedResults(p)]));
    } else {
      // a list that could not be moved aside is not overwritten: it may hold guests of an earlier stop
      listError ??= await listStep(services, () =>
        list.length > 0 ? writeListFile(services.files, listFile, list) : services.files.remove(listFile),
      );
      const shutdowns = await loadShutdownRecord(services, listFile);
      const acted = await stopTiersInTurn(request, tiers, counting, timing.deadline, shutdowns);
      tierResults = acted;
      uriResults = plans.map((p) => uriResult(p, [...(acted.results.get(p) ?? []), ...skippedResults(p)]));
      const at = new Date(services.clock.now()).toISOString();
      const away = uriResults.flatMap((u) =>
        u.guests.flatMap((g): AwayGuest[] => (g.outcome === 'done' && g.migratedTo !== undefined ? [{ uri: u.uri, peer: g.migratedTo, uuid: g.uuid, name: g.name, at: g.ended ?? at }] : [])),
      );
      // where they went is recorded whatever happened to the list: they are undefined here, the record is all there is
      const recordError = await recordAway(services, listFile, away);
      listError ??= recordError;
      if (away.length > 0 && listError === undefined) {
        // recorded, the guests on the peer leave the list (the original script must never start them here)
        const gone = new Set(away.map((g) => g.uuid));
        list = list.map((e) => ({ uri: e.uri, uuids: e.uuids.filter((u) => !gone.has(u)) })).filter((e) => e.uuids.length > 0);
        listError = await listStep(services, () =>
          list.length > 0 ? writeListFile(services.files, listFile, list) : services.files.remove(listFile),
        );
      }
      await services.files.remove(request.lockFile);
    }
    const failed =
      listError !== undefined || uriResults.some((u) => !u.reachable || u.guests.some((g) => ['failed', 'timeout', 'aborted'].includes(g.outcome)));
    counting.report({ kind: 'finished' });
    return {
      command: request.command,
      action: request.action,
      exit: failed ? EXIT.FAILURE : EXIT.OK,
      dryRun: request.dryRun,
      listFile,
      carriedOver: leftover.reduce((n, e) => n + e.uuids.length, 0),
      list,
      ...(listError !== undefined ? { listError } : {}),
      deadlineExpired: timing.deadline.signal.aborted,
      tiers: tierResults.tiers,
      ...(tierResults.reserveMs !== undefined ? { deadlineReserveMs: tierResults.reserveMs } : {}),
      durationMs: Math.round(services.clock.now() - startedAt),
      uris: uriResults,
    };
  } finally {
    timing.done();
    await Promise.all(plans.map((p) => p.conn?.close().catch(() => undefined)));
    await lock?.release();
  }
}
