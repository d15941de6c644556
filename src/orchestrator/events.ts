// What the orchestrator tells the outside world while it works. Renderers (src/ui) turn these into the original's
// plain lines, listr2 tasks on a TTY, or systemd STATUS= lines; the orchestrator never formats text itself.
import type { GuestRef } from '../connect/connection.js';
import type { GuestResult } from './result.js';

type UriAction = 'suspend' | 'shutdown' | 'start' | 'migrate';

export type OrchestratorEvent =
  | { kind: 'lock-wait'; pid: number }
  /** stop: the list left by an earlier stop cannot be read; it was moved aside (not in a dry run) and the stop goes on */
  | { kind: 'list-set-aside'; error: string; movedTo: string; moved: boolean }
  /** stop: the list file cannot be written; the guests are acted on all the same */
  | { kind: 'list-unwritable'; error: string }
  /** the record of asked shutdowns (shutdown-record.ts) cannot be read or written */
  | { kind: 'shutdowns-unrecorded'; file: string; error: string }
  | { kind: 'connect-retry'; uri: string; attempt: number; retries: number; error: string }
  | { kind: 'connect-failed'; uri: string; error: string; keptInList?: boolean }
  | { kind: 'connected'; uri: string; note?: string }
  /** stop: the running guests of a URI (before filtering) */
  | { kind: 'running'; uri: string; names: string[] }
  /** a guest's policy metadata has unknown attributes or bad values (left out), or cannot be read */
  | { kind: 'policy-invalid'; uri: string; guest: GuestRef; problems: string[] }
  /** stop: running guests whose policy says on-shutdown=ignore: neither touched nor listed */
  | { kind: 'policy-ignored'; uri: string; names: string[] }
  /** a tier begins (only reported when the guests have tiers); budgetMs: its share of STOP_DEADLINE */
  | { kind: 'tier-begin'; action: 'stop' | 'start'; order: number | null; guests: number; budgetMs: number | null }
  /** start: a guest did not reach its readiness (`ready`) within ready-timeout; the next tier goes on */
  | { kind: 'not-ready'; uri: string; guest: GuestRef; ready: 'running' | 'agent'; seconds: number }
  | { kind: 'transient-skipped'; uri: string; action: 'suspend' | 'shutdown' | 'migrate'; names: string[] }
  /** everything that will be acted on, known before the first action (renderers build their task lists) */
  | { kind: 'plan'; action: UriAction; uris: { uri: string; guests: { uuid: string; name?: string }[] }[] }
  | { kind: 'uri-begin'; uri: string; action: UriAction }
  | { kind: 'guest-begin'; uri: string; guest: GuestRef; action: 'suspend' | 'shutdown' | 'destroy' | 'start' | 'migrate'; to?: string }
  | { kind: 'save-progress'; uri: string; guest: GuestRef; processed: number; total: number | undefined }
  /** sequential shutdown, or start waiting for a guest still powering off: one guest (secondsLeft null: no limit) */
  | { kind: 'guest-waiting'; uri: string; guest: GuestRef; secondsLeft: number | null }
  /** parallel shutdown: how many guests of a URI are still being waited for */
  | { kind: 'uri-waiting'; uri: string; count: number; secondsLeft: number | null }
  | { kind: 'fallback'; uri: string; guest: GuestRef; from: 'suspend' | 'shutdown' | 'migrate'; to: 'suspend' | 'shutdown' | 'destroy'; reason: string }
  /** where the guests that were migrated away are recorded could not be read or written */
  | { kind: 'migrations-unrecorded'; file: string; error: string }
  /** the daemon went away during an action on the guest; `found` is what asking again afterwards found out */
  | { kind: 'connection-lost'; uri: string; guest: GuestRef; error: string; found: string }
  | { kind: 'timeout-expired'; uri: string }
  | { kind: 'guest-end'; result: GuestResult }
  | { kind: 'time-sync-failed'; uri: string; guest: GuestRef; error: string }
  | { kind: 'ignoring-uri'; uri: string }
  | { kind: 'not-starting' }
  | { kind: 'deadline-expired'; seconds: number }
  | { kind: 'finished' };

export type Reporter = (event: OrchestratorEvent) => void;
