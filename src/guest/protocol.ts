// The guest monitor protocol (QMP-like, JSON lines over a unix socket), shared by the runtime (server) and the
// process driver (client). On connect the server sends one greeting line; then each request line
// `{"id":N,"execute":CMD,"arguments":{…}}` gets exactly one reply `{"id":N,"return":…}` or
// `{"id":N,"error":{"class":…,"desc":…}}`; events `{"event":NAME,"data":{…}}` may come at any time.

/** `migrating`: its memory is being sent while it runs; `paused`: sent, waiting to be told whether it lives on */
export type GuestStatus = 'booting' | 'running' | 'saving' | 'shutting-down' | 'migrating' | 'paused';

export interface Greeting {
  greeting: {
    name: string;
    uuid: string;
    pid: number;
    status: GuestStatus;
    restored: boolean;
    /** paused (suspended): a daemon connecting anew shows it paused */
    paused: boolean;
    /** the save in progress, so that a daemon connecting mid-save (after a restart) can follow it */
    save: SaveProgress | null;
  };
}

/** Why the guest process is about to exit; sent as the POWEROFF event just before it does. */
export type PowerOffReason = 'shutdown' | 'destroyed' | 'saved' | 'failed' | 'migrated';

export type ErrorClass =
  | 'GenericError'
  | 'CommandNotFound'
  | 'InvalidArgument'
  | 'AgentNotConfigured'
  | 'AgentUnavailable'
  | 'Busy'
  | 'Aborted'
  | 'NoJob';

export interface StatusReply {
  status: GuestStatus;
  name: string;
  uuid: string;
  pid: number;
  counter: number;
  restored: boolean;
  paused: boolean;
}

export interface StateReply {
  counter: number;
  /** sha256 hex of the memory bytes now */
  checksum: string;
  memoryBytes: number;
  guestTimeNs: string;
  /** what a restore loaded, before the guest ran on */
  restoredFrom: { counter: number; checksum: string } | null;
}

/** how the save wrote its bytes past the page cache (or why it did not) */
export type WriteMethod = 'o_direct' | 'dd-oflag-direct' | 'buffered+fsync' | 'buffered';

interface SaveArgs {
  file: string;
  bypassCache?: boolean;
  /** how the restore leaves the guest (libvirt's SAVE_PAUSED / SAVE_RUNNING); by default as it is when the save begins */
  paused?: boolean;
}
export interface SaveReply {
  file: string;
  bytes: number;
  method: WriteMethod;
  counter: number;
  checksum: string;
  guestTimeNs: string;
  /** the image restores the guest paused */
  paused: boolean;
}
export interface SaveProgress {
  processed: number;
  total: number;
  elapsedMs: number;
}
export interface QuerySaveReply {
  active: boolean;
  processed: number;
  total: number;
  elapsedMs: number;
}

interface MigrateArgs {
  /** where the destination listens (migration-stream.ts) */
  uri: string;
  token: string;
  live: boolean;
}
export interface MigrateReply {
  bytes: number;
  passes: number;
  /** how long the guest has been paused when the destination had it all, ms */
  pausedMs: number;
  counter: number;
  checksum: string;
}

export interface TimeReply {
  /** guest clock, nanoseconds since the epoch, as a decimal string (exceeds 2^53) */
  timeNs: string;
}

export interface Commands {
  'query-status': { args: Record<string, never>; reply: StatusReply };
  'query-state': { args: Record<string, never>; reply: StateReply };
  system_powerdown: { args: Record<string, never>; reply: { accepted: boolean; honored: boolean } };
  /** pause the guest (its memory and clock stand still) */
  stop: { args: Record<string, never>; reply: Record<string, never> };
  /** resume a paused guest */
  cont: { args: Record<string, never>; reply: Record<string, never> };
  quit: { args: Record<string, never>; reply: Record<string, never> };
  save: { args: SaveArgs; reply: SaveReply };
  'save-cancel': { args: Record<string, never>; reply: Record<string, never> };
  'query-save': { args: Record<string, never>; reply: QuerySaveReply };
  /** send the guest to a destination; it stays paused until migrate-finish */
  migrate: { args: MigrateArgs; reply: MigrateReply };
  'migrate-cancel': { args: Record<string, never>; reply: Record<string, never> };
  /**
   * commit: the guest runs on at the destination, so this one ends (POWEROFF 'migrated'); else it resumes, unless a
   * client suspended it during the migration (`paused`: it stays so)
   */
  'migrate-finish': { args: { commit: boolean }; reply: { paused: boolean } };
  'guest-get-time': { args: Record<string, never>; reply: TimeReply };
  /** without timeNs: take the host's time (domtime --sync) */
  'guest-set-time': { args: { timeNs?: string }; reply: TimeReply };
}
export type CommandName = keyof Commands;

export interface Events {
  POWEROFF: { reason: PowerOffReason };
  SAVE_PROGRESS: SaveProgress;
  /** the save failed or was cancelled: the guest runs on (a finished save ends with POWEROFF 'saved') */
  SAVE_FAILED: { desc: string };
  BOOTED: Record<string, never>;
  SHUTDOWN_REQUESTED: { honored: boolean };
  MIGRATE_PROGRESS: SaveProgress;
}

/** the readiness line the runtime writes to fd 3 once its monitor listens (or why it could not start) */
export type ReadyLine = { ready: true; pid: number; restored: boolean } | { error: { class: string; desc: string } };

/** How a guest behaves (from `<gd:behavior>` in its domain XML). */
export interface GuestBehavior {
  bootSeconds: number;
  shutdownSeconds: number;
  honorShutdown: boolean;
  agent: boolean;
  driftPpm: number;
  /** throttle for save streaming, MiB/s; 0 = unthrottled */
  saveMiBps: number;
}
