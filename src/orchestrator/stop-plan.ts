// What a stop will act on, per URI: the request, the running guests with the action each one's policy gives it,
// and those left alone (transient guests under PERSISTENT_ONLY, on-shutdown=ignore); and the results that follow
// from a plan without acting on it (a dry run's guests, the skipped and the ignored ones). `stop.ts` plans every URI
// before the list file is written; `stop-tiers.ts` then acts on the targets.
import type { Connection, GuestInfo } from '../connect/connection.js';
import type { GuestsConfig, LocalAction, OnShutdown } from '../config/variables.js';
import { connectWithRetry } from './connect-retry.js';
import type { GuestResult, UriResult } from './result.js';
import { errorText, type Services } from './services.js';
import type { Deadline } from './uri-run.js';
import { guestPolicies, type GuestPolicy } from './guest-policies.js';
import { acts, type ActingShutdownAction, type ShutdownAction } from './policy/attributes.js';

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
export const localAction = (action: OnShutdown | StopAction, config: GuestsConfig): LocalAction | 'destroy' =>
  action === 'migrate' ? config.MIGRATE_FALLBACK : action;

/** PERSISTENT_ONLY as the original reads it: `default` means persistent-only when suspending, all when shutting down. */
function persistentOnly(action: LocalAction | 'destroy', setting: GuestsConfig['PERSISTENT_ONLY']): boolean {
  if (setting === 'true') return true;
  if (setting === 'false') return false;
  return action === 'suspend';
}

/** A guest to act on, with its policy and the action that follows from it. */
export interface StopTarget extends GuestInfo {
  policy: GuestPolicy;
  action: StopAction;
}
export type StopAction = ActingShutdownAction;

export interface UriPlan {
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

export async function planUri(request: StopRequest, uri: string, services: Services, deadline: Deadline): Promise<UriPlan> {
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

export function plannedResults(plan: UriPlan): GuestResult[] {
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

export function skippedResults(plan: UriPlan): GuestResult[] {
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

export function uriResult(plan: UriPlan, guests: GuestResult[]): UriResult {
  return {
    uri: plan.uri,
    reachable: plan.conn !== null,
    ...(plan.error !== undefined ? { error: plan.error } : {}),
    ...(plan.conn ? { backend: plan.conn.backend } : {}),
    guests,
  };
}
