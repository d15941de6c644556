// The state shared by everything done on one URI during a stop, and the per-guest result bookkeeping.
import { defaultMaxListeners, setMaxListeners } from 'node:events';
import type { Connection, GuestInfo, GuestRef } from '../connect/connection.js';
import type { GuestsConfig } from '../config/variables.js';
import type { PowerWatch } from './power-watch.js';
import type { ShutdownRecord } from './shutdown-record.js';
import type { GuestAction, GuestResult } from './result.js';
import { errorText, type Services } from './services.js';

/** The overall stop deadline: `at` in ms since the epoch (null: none); `signal` aborts when it passes. */
export interface Deadline {
  at: number | null;
  signal: AbortSignal;
}

export interface UriRun {
  uri: string;
  conn: Connection;
  config: GuestsConfig;
  services: Services;
  watch: PowerWatch;
  deadline: Deadline;
  /** where each shutdown is noted before it is asked for */
  shutdowns: ShutdownRecord;
}

/**
 * Marks `signal` as listened to by the work on each of `guests` guests at once (a save or a wait each, plus one per
 * URI): that many abort listeners is the design, not a leak, and Node must not warn about it past its default of 10.
 */
export function sharedByGuests(signal: AbortSignal, guests: number): void {
  setMaxListeners(Math.max(defaultMaxListeners, guests), signal);
}

/** The earlier of a local limit and the overall deadline (null: no limit at all). */
export function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** Collects one guest's result while it is being handled. */
export class GuestRecord {
  private readonly startedAt: number;
  readonly result: GuestResult;

  constructor(
    private readonly run: Pick<UriRun, 'uri' | 'services'>,
    readonly guest: GuestRef & Partial<Pick<GuestInfo, 'persistent'>>,
    action: GuestAction,
  ) {
    this.startedAt = run.services.clock.now();
    this.result = {
      uri: run.uri,
      uuid: guest.uuid,
      name: guest.name,
      action,
      finalAction: action,
      outcome: 'planned',
      durationMs: 0,
      fallback: [],
      ...(guest.persistent !== undefined ? { persistent: guest.persistent } : {}),
    };
  }

  fallbackTo(to: 'shutdown' | 'destroy', from: 'suspend' | 'shutdown', reason: unknown): void {
    this.result.fallback.push(to);
    this.result.finalAction = to;
    this.run.services.report({ kind: 'fallback', uri: this.run.uri, guest: this.guest, from, to, reason: errorText(reason) });
  }

  /** sets the outcome, reports the end, returns the result */
  end(outcome: GuestResult['outcome'], error?: unknown): GuestResult {
    this.result.outcome = outcome;
    if (error !== undefined) this.result.error = errorText(error);
    else delete this.result.error;
    this.result.durationMs = Math.max(0, Math.round(this.run.services.clock.now() - this.startedAt));
    this.run.services.report({ kind: 'guest-end', result: this.result });
    return this.result;
  }
}
