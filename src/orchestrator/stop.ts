// `stop` and `shutdown`: record which guests run, then suspend or shut them down, every URI at the same time.
//
// Order matters for the night the host goes down: (1) list the running guests of every URI, (2) write the list
// file atomically, merged with any list a previous stop left behind (the original's stop silently did nothing when
// a list existed), (3) only then touch guests. A kill at any moment leaves a list that `start` can act on.
import type { Connection, GuestInfo } from '../connect/connection.js';
import type { GuestsConfig, LocalAction, OnShutdown } from '../config/variables.js';
import { EXIT, StateFileError } from '../errors.js';
import { connectWithRetry } from './connect-retry.js';
import { mergeLists, readListFile, writeListFile, type ListEntry } from './list-file.js';
import { migrateOrFallBack, recordAway, type AwayGuest } from './migrate.js';
import { PowerWatch } from './power-watch.js';
import type { GuestResult, StopResult, TierResult, UriResult } from './result.js';
import { errorText, loadShutdownRecord, takeRunLock, type Services } from './services.js';
import type { ShutdownRecord } from './shutdown-record.js';
import { shutdownParallel, shutdownSequential } from './shutdown.js';
import { suspendGuests } from './suspend.js';
import { earliest, GuestRecord, sharedByGuests, type Deadline, type UriRun } from './uri-run.js';
import { guestPolicies, type GuestPolicy } from './guest-policies.js';
import { planDeadline, reserveMs, tierBudgetMs } from './policy/deadline-plan.js';
import { stopTiers } from './policy/tiers.js';
import { acts, type ActingShutdownAction, type ShutdownAction } from './policy/attributes.js';
import { withTimeline } from './timeline.js';
import { isVirError, VirErr } from '../libvirt/error.js';

export interface StopRequest {
  command: 'stop' | 'shutdown';
  config: GuestsConfig;
  /** `shutdown` forces ON_SHUTDOWN=shutdown */
  action: OnShutdown;
  dryRun: boolean;
  listFile: string;
  lockFile: string;
  /** the caller (restart) holds the run lock already */
  lockHeld?: boolean;
}

const XEN_DOM0 = '00000000-0000-0000-0000-000000000000';

/** what is done here: the action, or for migrate what a guest that cannot go gets (MIGRATE_FALLBACK) */
const localAction = (action: OnShutdown | StopAction, config: GuestsConfig): LocalAction | 'destroy' =>
  action === 'migrate' ? config.MIGRATE_FALLBACK : action;

/** PERSISTENT_ONLY as the original reads it: `default` means persistent-only when suspending, all when shutting down. */
function persistentOnly(action: LocalAction | 'destroy', setting: GuestsConfig['PERSISTENT_ONLY']): boolean {
  if (setting === 'true') return true;
  if (setting === 'false') return false;
  return action === 'suspend';
}

/** A guest to act on, with its policy and the action that follows from it. */
interface StopTarget extends GuestInfo {
  policy: GuestPolicy;
  action: StopAction;
}
type StopAction = ActingShutdownAction;

interface UriPlan {
  uri: string;
  conn: Connection | null;
  error?: string;
  targets: StopTarget[];
  skipped: StopTarget[];
  /** on-shutdown=ignore: neither touched nor listed */
  ignored: StopTarget[];
}

/**
 * The guest's action by its policy; the `shutdown` command shuts down the guests that would be suspended or
 * migrated. Under `stop`, ON_SHUTDOWN is only the default: a guest's own on-shutdown wins.
 */
function actionOf(request: StopRequest, policy: GuestPolicy): ShutdownAction {
  const wanted = policy.values['on-shutdown'];
  return (wanted === 'suspend' || wanted === 'migrate') && request.command === 'shutdown' ? 'shutdown' : wanted;
}

async function planUri(request: StopRequest, uri: string, services: Services, deadline: Deadline): Promise<UriPlan> {
  const { config } = request;
  let conn: Connection;
  try {
    conn = await connectWithRetry(
      uri,
      { retries: config.CONNECT_RETRIES, sleepMs: config.RETRIES_SLEEP * 1000, readonly: request.dryRun, signal: deadline.signal },
      services,
    );
  } catch (err) {
    services.report({ kind: 'connect-failed', uri, error: errorText(err) });
    return { uri, conn: null, error: errorText(err), targets: [], skipped: [], ignored: [] };
  }
  services.report({ kind: 'connected', uri });
  try {
    const running = (await conn.listGuests({ which: 'active' })).filter((g) => g.uuid !== XEN_DOM0);
    // the policy's default action is the command's (stop: ON_SHUTDOWN; shutdown: always shutdown)
    const policies = await guestPolicies(conn, uri, running, { ...config, ON_SHUTDOWN: request.action }, services);
    const all = running.map((g, i): StopTarget & { wanted: ShutdownAction } => {
      const policy = policies[i]!;
      const wanted = actionOf(request, policy);
      return { ...g, policy, action: acts(wanted) ? wanted : request.action, wanted };
    });
    const ignored = all.filter((g) => !acts(g.wanted));
    const acted = all.filter((g) => acts(g.wanted));
    services.report({ kind: 'running', uri, names: acted.map((g) => g.name) });
    if (ignored.length > 0) services.report({ kind: 'policy-ignored', uri, names: ignored.map((g) => g.name) });
    // a guest to migrate counts as its fallback: one that cannot go gets MIGRATE_FALLBACK
    const skipped = acted.filter((g) => !g.persistent && persistentOnly(localAction(g.action, config), config.PERSISTENT_ONLY));
    if (skipped.length > 0 || persistentOnly(localAction(request.action, config), config.PERSISTENT_ONLY)) {
      services.report({ kind: 'transient-skipped', uri, action: request.action, names: skipped.map((g) => g.name) });
    }
    return { uri, conn, targets: acted.filter((g) => !skipped.includes(g)), skipped, ignored };
  } catch (err) {
    await conn.close().catch(() => undefined);
    const error = `failed to list the running guests: ${errorText(err)}`;
    services.report({ kind: 'connect-failed', uri, error });
    return { uri, conn: null, error, targets: [], skipped: [], ignored: [] };
  }
}

/** Powered off at once (on-shutdown=destroy). */
async function destroyGuests(run: UriRun, guests: GuestInfo[]): Promise<GuestResult[]> {
  return Promise.all(
    guests.map(async (guest) => {
      const rec = new GuestRecord(run, guest, 'destroy');
      run.services.report({ kind: 'guest-begin', uri: run.uri, guest, action: 'destroy' });
      try {
        await run.conn.destroy(guest);
        return rec.end('done');
      } catch (err) {
        if (isVirError(err, VirErr.NO_DOMAIN) || (await run.watch.isOff(guest).catch(() => false))) return rec.end('done');
        return rec.end('failed', err);
      }
    }),
  );
}

/**
 * How each action is carried out on a group of guests of one URI (shutdowns: one group per shutdown-timeout;
 * migrations: PARALLEL_MIGRATE at a time, each guest that cannot go gets MIGRATE_FALLBACK's runner).
 */
const RUNNERS: Record<StopAction, (run: UriRun, guests: StopTarget[]) => Promise<GuestResult[]>> = {
  suspend: (run, guests) => suspendGuests(run, guests),
  destroy: (run, guests) => destroyGuests(run, guests),
  migrate: async (run, guests) => {
    const local = run.config.MIGRATE_FALLBACK;
    return migrateOrFallBack(run, guests, local, (failed) => RUNNERS[local](run, failed));
  },
  shutdown: async (run, guests) => {
    const { config } = run;
    const timeouts = [...new Set(guests.map((g) => g.policy.values['shutdown-timeout']))];
    const groups = timeouts.map((timeout) => {
      const members = guests.filter((g) => g.policy.values['shutdown-timeout'] === timeout);
      const own: UriRun = { ...run, config: { ...config, SHUTDOWN_TIMEOUT: timeout } };
      return config.PARALLEL_SHUTDOWN > 1 ? shutdownParallel(own, members, config.PARALLEL_SHUTDOWN) : shutdownSequential(own, members);
    });
    return (await Promise.all(groups)).flat();
  },
};

/** Acts on one tier's guests of one URI: each action's guests at the same time. */
async function actOnTier(run: UriRun, guests: StopTarget[]): Promise<GuestResult[]> {
  const actions = [...new Set(guests.map((g) => g.action))];
  const results = (await Promise.all(actions.map((a) => RUNNERS[a](run, guests.filter((g) => g.action === a))))).flat();
  // in the order the guests were listed (virsh's order), whatever finished first
  const rank = new Map(guests.map((g, i) => [g.uuid, i]));
  for (const r of results) r.tier = guests[rank.get(r.uuid)!]!.policy.order;
  return results.sort((a, b) => rank.get(a.uuid)! - rank.get(b.uuid)!);
}

interface StopTier {
  order: number | null;
  /** per URI plan, its guests in this tier */
  members: { plan: UriPlan; guests: StopTarget[] }[];
  guests: number;
  /** what the tier's guests may take by their policy (seconds; null: no limit of their own) */
  needSeconds: number | null;
}

function tiersOf(plans: UriPlan[]): StopTier[] {
  const all = plans.flatMap((plan) => plan.targets.map((guest) => ({ plan, guest })));
  return stopTiers(all, (x) => x.guest.policy.order).map((t) => {
    const needs = t.members.map(({ guest }) =>
      // a save's or a migration's time is not known beforehand: a fair share
      guest.action === 'destroy' ? 1 : guest.action === 'suspend' || guest.action === 'migrate' ? null : guest.policy.values['shutdown-timeout'] || null,
    );
    return {
      order: t.order,
      members: plans.map((plan) => ({ plan, guests: t.members.filter((m) => m.plan === plan).map((m) => m.guest) })).filter((m) => m.guests.length > 0),
      guests: t.members.length,
      needSeconds: needs.includes(null) ? null : Math.max(...(needs as number[])),
    };
  });
}

/**
 * Stops the tiers one after the other. With STOP_DEADLINE over several tiers each tier gets its budget (computed
 * again from the time really left when it begins) and a deadline of its own at the end of it; one tier alone keeps
 * the whole deadline, as before policies.
 */
async function stopTiersInTurn(
  request: StopRequest,
  tiers: StopTier[],
  services: Services,
  deadline: Deadline,
  shutdowns: ShutdownRecord,
): Promise<{ results: Map<UriPlan, GuestResult[]>; tiers: TierResult[]; reserveMs?: number }> {
  const { config } = request;
  const { clock } = services;
  const planned = config.STOP_DEADLINE > 0 && deadline.at !== null && tiers.length > 1;
  const reserve = planned ? reserveMs(config.STOP_DEADLINE) : 0;
  const results = new Map<UriPlan, GuestResult[]>();
  const watches = new Map<UriPlan, PowerWatch>();
  const out: TierResult[] = [];
  const begun = new Set<UriPlan>();
  try {
    for (const [i, tier] of tiers.entries()) {
      const began = clock.now();
      const budgetMs = planned ? tierBudgetMs(deadline.at! - reserve - began, tiers.length - i, tier.needSeconds) : null;
      if (tiers.length > 1) services.report({ kind: 'tier-begin', action: 'stop', order: tier.order, guests: tier.guests, budgetMs });
      const own = budgetMs === null ? { deadline, done: () => undefined } : tierDeadline(deadline, began + budgetMs, clock);
      if (budgetMs !== null) sharedByGuests(own.deadline.signal, tier.guests + tier.members.length);
      try {
        await Promise.all(
          tier.members.map(async ({ plan, guests }) => {
            const conn = plan.conn!;
            let watch = watches.get(plan);
            if (!watch) {
              watch = new PowerWatch(conn, clock);
              watches.set(plan, watch);
              if (plan.targets.some((g) => localAction(g.action, config) !== 'suspend')) await watch.start();
            }
            if (!begun.has(plan)) {
              begun.add(plan);
              services.report({ kind: 'uri-begin', uri: plan.uri, action: request.action });
            }
            const run: UriRun = { uri: plan.uri, conn, config, services, watch, deadline: own.deadline, shutdowns };
            results.set(plan, [...(results.get(plan) ?? []), ...(await actOnTier(run, guests))]);
          }),
        );
      } finally {
        own.done();
      }
      out.push({ order: tier.order, guests: tier.guests, budgetMs, usedMs: Math.max(0, Math.round(clock.now() - began)) });
    }
  } finally {
    await Promise.all([...watches.values()].map((w) => w.close()));
  }
  return { results, tiers: out, ...(planned ? { reserveMs: reserve } : {}) };
}

/** The overall deadline, or the end of a tier's budget when that comes first. */
function tierDeadline(overall: Deadline, at: number, clock: Services['clock']): { deadline: Deadline; done: () => void } {
  const ends = new AbortController();
  const stop = new AbortController();
  clock.sleep(Math.max(0, at - clock.now()), stop.signal).then(
    () => ends.abort(new Error('the tier\'s share of the stop deadline expired')),
    () => undefined,
  );
  return { deadline: { at: earliest(at, overall.at), signal: AbortSignal.any([overall.signal, ends.signal]) }, done: () => stop.abort() };
}

/** The tiers of a dry run: what the STOP_DEADLINE plan would give each. */
function plannedTiers(config: GuestsConfig, tiers: StopTier[]): { tiers: TierResult[]; reserveMs?: number } {
  if (config.STOP_DEADLINE === 0 || tiers.length < 2) return { tiers: tiers.map((t) => ({ order: t.order, guests: t.guests, budgetMs: null })) };
  const plan = planDeadline(config.STOP_DEADLINE, tiers);
  return { tiers: tiers.map((t, i) => ({ order: t.order, guests: t.guests, budgetMs: plan.tiers[i]!.budgetMs })), reserveMs: plan.reserveMs };
}

function plannedResults(plan: UriPlan): GuestResult[] {
  return plan.targets.map((g) => ({
    uri: plan.uri,
    uuid: g.uuid,
    name: g.name,
    action: g.action,
    finalAction: g.action,
    outcome: 'planned',
    durationMs: 0,
    fallback: [],
    persistent: g.persistent,
    tier: g.policy.order,
  }));
}

const SKIPPED_WORDS: Record<StopAction, string> = {
  suspend: 'suspended (a transient guest cannot be saved)',
  shutdown: 'shut down',
  destroy: 'shut down',
  migrate: 'migrated (a transient guest that cannot go would be saved, and cannot be)',
};

function skippedResults(plan: UriPlan): GuestResult[] {
  const skip = (g: StopTarget, error: string): GuestResult => ({
    uri: plan.uri,
    uuid: g.uuid,
    name: g.name,
    action: 'none',
    finalAction: 'none',
    outcome: 'skipped',
    durationMs: 0,
    fallback: [],
    persistent: g.persistent,
    tier: g.policy.order,
    error,
  });
  return [
    ...plan.skipped.map((g) =>
      skip(g, `transient guest: not ${SKIPPED_WORDS[g.action]} because of PERSISTENT_ONLY`),
    ),
    ...plan.ignored.map((g) => skip(g, 'on-shutdown=ignore (its policy): left running, not recorded in the list')),
  ];
}

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

function uriResult(plan: UriPlan, guests: GuestResult[]): UriResult {
  return {
    uri: plan.uri,
    reachable: plan.conn !== null,
    ...(plan.error !== undefined ? { error: plan.error } : {}),
    ...(plan.conn ? { backend: plan.conn.backend } : {}),
    guests,
  };
}
