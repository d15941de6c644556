// A stop's tiers, one after the other (policy's `order`; one tier when no guest has a policy), and how each action
// is carried out on a tier's guests of one URI: with STOP_DEADLINE over several tiers, each tier gets its share of
// the time left and a deadline of its own. A dry run gets the shares the plan would give.
import type { GuestInfo } from '../connect/connection.js';
import type { GuestsConfig } from '../config/variables.js';
import { migrateOrFallBack } from './migrate.js';
import { PowerWatch } from './power-watch.js';
import type { GuestResult, TierResult } from './result.js';
import type { Services } from './services.js';
import type { ShutdownRecord } from './shutdown-record.js';
import { shutdownParallel, shutdownSequential } from './shutdown.js';
import { suspendGuests } from './suspend.js';
import { localAction, type StopAction, type StopRequest, type StopTarget, type UriPlan } from './stop-plan.js';
import { earliest, GuestRecord, sharedByGuests, type Deadline, type UriRun } from './uri-run.js';
import { planDeadline, reserveMs, tierBudgetMs } from './policy/deadline-plan.js';
import { stopTiers } from './policy/tiers.js';
import { isVirError, VirErr } from '../libvirt/error.js';

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

export interface StopTier {
  order: number | null;
  /** per URI plan, its guests in this tier */
  members: { plan: UriPlan; guests: StopTarget[] }[];
  guests: number;
  /** what the tier's guests may take by their policy (seconds; null: no limit of their own) */
  needSeconds: number | null;
}

export function tiersOf(plans: UriPlan[]): StopTier[] {
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
export async function stopTiersInTurn(
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
export function plannedTiers(config: GuestsConfig, tiers: StopTier[]): { tiers: TierResult[]; reserveMs?: number } {
  if (config.STOP_DEADLINE === 0 || tiers.length < 2) return { tiers: tiers.map((t) => ({ order: t.order, guests: t.guests, budgetMs: null })) };
  const plan = planDeadline(config.STOP_DEADLINE, tiers);
  return { tiers: tiers.map((t, i) => ({ order: t.order, guests: t.guests, budgetMs: plan.tiers[i]!.budgetMs })), reserveMs: plan.reserveMs };
}
