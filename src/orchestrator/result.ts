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

/** Every result a command can print with --json. */
const CommandResult = z.union([StopResult, StartResult, RestartResult, GuestStatusResult, MigrateResult]);

export function resultJsonSchema(): unknown {
  return z.toJSONSchema(CommandResult, { target: 'draft-2020-12' });
}
