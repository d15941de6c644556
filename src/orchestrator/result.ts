// The result objects of start/stop/shutdown/gueststatus: one per command, rendered for people and printed as-is by
// --json. Described with zod so that the JSON schema checked into the repository (result.schema.json) is derived
// from the same source, and tests validate real output against it.
import { z } from 'zod';

export const GuestAction = z.enum(['suspend', 'shutdown', 'destroy', 'start', 'migrate', 'none']);
export type GuestAction = z.infer<typeof GuestAction>;

const GuestOutcome = z.enum([
  'done', // the action completed
  'failed', // the action was refused or failed
  'timeout', // shutdown not finished in time (and no fallback finished it)
  'aborted', // cut short by STOP_DEADLINE
  'already-active', // start: the guest was running already
  'missing', // start: the guest no longer exists on that URI
  'skipped', // not acted on (transient guest in suspend mode, URI ignored)
  'planned', // --dry-run: what would be done
]);
type GuestOutcome = z.infer<typeof GuestOutcome>;

export const GuestResult = z.object({
  uri: z.string(),
  uuid: z.string(),
  name: z.string(),
  /** the action asked for first */
  action: GuestAction,
  /** the action that decided the outcome (differs from `action` when a fallback ran) */
  finalAction: GuestAction,
  outcome: GuestOutcome,
  durationMs: z.number().int().nonnegative(),
  /** bytes written by a managed save */
  bytes: z.number().int().nonnegative().optional(),
  /** fallbacks that ran, in order */
  fallback: z.array(z.enum(['suspend', 'shutdown', 'destroy'])),
  /** migrate: the URI of the host the guest runs on now */
  migratedTo: z.string().optional(),
  /** migrate: why the guest could not be migrated (it got the local action instead) */
  migrateError: z.string().optional(),
  persistent: z.boolean().optional(),
  error: z.string().optional(),
  /** the guest's tier (its policy's `order`); null: the default tier */
  tier: z.number().int().nullable().optional(),
  /** when its action began and ended (ISO 8601): the order that really happened */
  began: z.string().optional(),
  ended: z.string().optional(),
  /** start: the readiness gate of its policy (`ready`): reached, or not within ready-timeout (reported, not fatal) */
  ready: z.enum(['running', 'agent', 'timeout']).optional(),
  /** SYNC_TIME after a start */
  timeSync: z.enum(['done', 'failed']).optional(),
  timeSyncError: z.string().optional(),
});
export type GuestResult = z.infer<typeof GuestResult>;

export const UriResult = z.object({
  uri: z.string(),
  reachable: z.boolean(),
  /** why the URI could not be used */
  error: z.string().optional(),
  /** start: the URI is in the list file but not in URIS */
  ignored: z.boolean().optional(),
  /** which backend served it */
  backend: z.enum(['native', 'virsh']).optional(),
  guests: z.array(GuestResult),
});
export type UriResult = z.infer<typeof UriResult>;

/** One tier of a stop or start: its guests and, with STOP_DEADLINE over several tiers, its budget and time used. */
export const TierResult = z.object({
  /** null: the default tier (guests without `order`) */
  order: z.number().int().nullable(),
  guests: z.number().int().nonnegative(),
  /** ms this tier may take (the STOP_DEADLINE plan); null: no budget of its own */
  budgetMs: z.number().int().nonnegative().nullable(),
  /** ms it took (absent in a dry run) */
  usedMs: z.number().int().nonnegative().optional(),
});
export type TierResult = z.infer<typeof TierResult>;

/** one line of the list file: a URI and the UUIDs of its guests */
export const ListEntry = z.object({ uri: z.string(), uuids: z.array(z.string()) });
export type ListEntry = z.infer<typeof ListEntry>;

const ExitStatus = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(6)]);

export const StopResult = z.object({
  command: z.enum(['stop', 'shutdown']),
  action: z.enum(['suspend', 'shutdown', 'migrate']),
  exit: ExitStatus,
  dryRun: z.boolean(),
  listFile: z.string(),
  /** guests in the list file before this stop (a stop that was never followed by a start) */
  carriedOver: z.number().int().nonnegative(),
  /** the list file after this stop: the guests start will bring back (a dry run: what it would hold) */
  list: z.array(ListEntry),
  /** the list file could not be written: the guests were acted on all the same (exit 1) */
  listError: z.string().optional(),
  deadlineExpired: z.boolean(),
  /** the tiers in the order they were stopped (descending `order`, the default tier first) */
  tiers: z.array(TierResult),
  /** STOP_DEADLINE over several tiers: ms kept at the end for the fallback */
  deadlineReserveMs: z.number().int().nonnegative().optional(),
  durationMs: z.number().int().nonnegative(),
  uris: z.array(UriResult),
});
export type StopResult = z.infer<typeof StopResult>;

export const StartResult = z.object({
  command: z.literal('start'),
  exit: ExitStatus,
  dryRun: z.boolean(),
  listFile: z.string(),
  /** ON_BOOT=ignore, or no list file: nothing was started */
  skippedReason: z.enum(['no-list', 'on-boot-ignore']).optional(),
  /** guests left in the list for a later start (unreachable URI, failed start) */
  remaining: z.number().int().nonnegative(),
  /** the tiers in the order they were started (ascending `order`, the default tier last) */
  tiers: z.array(TierResult),
  durationMs: z.number().int().nonnegative(),
  uris: z.array(UriResult),
});
export type StartResult = z.infer<typeof StartResult>;

/** `evacuate` and `return`, and the guests `start` brings back from the peer */
export const MigrateResult = z.object({
  command: z.enum(['evacuate', 'return']),
  exit: ExitStatus,
  dryRun: z.boolean(),
  /** evacuate: the peer the guests go to */
  to: z.string().optional(),
  /** where the guests that went away are recorded (beside the list file) */
  recordFile: z.string(),
  /** guests still recorded as away after this run */
  away: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  uris: z.array(UriResult),
});
export type MigrateResult = z.infer<typeof MigrateResult>;

export const RestartResult = z.object({
  command: z.enum(['restart', 'condrestart', 'try-restart']),
  exit: ExitStatus,
  /** condrestart/try-restart: false when the service was not started (no lock file) */
  ran: z.boolean(),
  stop: StopResult.optional(),
  start: StartResult.optional(),
});
export type RestartResult = z.infer<typeof RestartResult>;

export const GuestStatusResult = z.object({
  command: z.literal('gueststatus'),
  exit: ExitStatus,
  uris: z.array(
    z.object({
      uri: z.string(),
      reachable: z.boolean(),
      error: z.string().optional(),
      guests: z.array(z.object({ id: z.number().int(), name: z.string(), uuid: z.string(), state: z.string(), persistent: z.boolean() })),
    }),
  ),
});
export type GuestStatusResult = z.infer<typeof GuestStatusResult>;

const PolicyValue = z.union([z.string(), z.number().int(), z.null()]);
/** the attributes a guest's metadata sets (valid ones only) */
const PolicyValues = z.record(z.string(), PolicyValue);

export const PolicyShowResult = z.object({
  command: z.literal('policy show'),
  exit: ExitStatus,
  /** the XML namespace of the policy element in each domain's <metadata> */
  namespace: z.string(),
  /** names asked for that no URI has */
  missing: z.array(z.string()),
  uris: z.array(
    z.object({
      uri: z.string(),
      reachable: z.boolean(),
      error: z.string().optional(),
      guests: z.array(
        z.object({
          name: z.string(),
          uuid: z.string(),
          state: z.string(),
          /** null: the default tier */
          tier: z.number().int().nullable(),
          /** every attribute: its effective value and where it came from (and which variable, from the configuration) */
          policy: z.record(
            z.string(),
            z.object({ value: PolicyValue, source: z.enum(['metadata', 'config', 'default']), variable: z.string().optional() }),
          ),
          /** what is wrong in its metadata (those values are ignored) */
          problems: z.array(z.string()),
        }),
      ),
    }),
  ),
});
export type PolicyShowResult = z.infer<typeof PolicyShowResult>;

export const PolicySetResult = z.object({
  command: z.enum(['policy set', 'policy unset']),
  exit: ExitStatus,
  dryRun: z.boolean(),
  uri: z.string(),
  name: z.string(),
  uuid: z.string(),
  /** the attributes stored before and after */
  before: PolicyValues,
  after: PolicyValues,
  /** the element stored (null: the policy was removed) */
  metadata: z.string().nullable(),
});
export type PolicySetResult = z.infer<typeof PolicySetResult>;

/** Every result a command can print with --json. */
const CommandResult = z.union([StopResult, StartResult, RestartResult, GuestStatusResult, MigrateResult, PolicyShowResult, PolicySetResult]);

export function resultJsonSchema(): unknown {
  return z.toJSONSchema(CommandResult, { target: 'draft-2020-12' });
}
