// What the process driver is given, and every wait it makes: named, with its default, in one place.
import type { Clock } from '../../effects/clock.js';
import type { Launcher } from './launcher.js';

export interface DriverLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export interface DriverTiming {
  /** how often the processes of running guests are looked at: a backstop to their monitor closing */
  livenessIntervalMs: number;
  /** how often /proc, or a monitor socket, is tried again while waiting on a guest process */
  pollMs: number;
  /** how long a booting guest may take to report ready */
  bootTimeoutMs: number;
  /** how long a restoring guest may take to report ready (it reads its whole image first) */
  restoreTimeoutMs: number;
  /** how long a guest's monitor may take to greet once its socket accepts */
  greetingTimeoutMs: number;
  /** how long a restarted daemon waits for the monitor of a guest still booting or restoring */
  reconnectTimeoutMs: number;
  /** how long a guest whose monitor closed may take to end before it is taken up again (or killed) */
  exitTimeoutMs: number;
  /** how long the last reply of a saving guest that ended may take to be read from its monitor */
  drainTimeoutMs: number;
  /** how long a guest may take to end once its save is on disk, before it is killed */
  savedExitTimeoutMs: number;
  /** destroy: how long a guest may take to end after SIGTERM, and again after SIGKILL */
  killTimeoutMs: number;
}

export const DEFAULT_TIMING: DriverTiming = {
  livenessIntervalMs: 1000,
  pollMs: 50,
  bootTimeoutMs: 30_000,
  restoreTimeoutMs: 600_000,
  greetingTimeoutMs: 5000,
  reconnectTimeoutMs: 30_000,
  exitTimeoutMs: 5000,
  drainTimeoutMs: 2000,
  savedExitTimeoutMs: 10_000,
  killTimeoutMs: 3000,
};

export interface ProcessDriverOptions {
  stateDir: string;
  runDir: string;
  log: DriverLogger;
  /** the system clock unless given */
  clock?: Clock;
  /** replaces spawning the runtime (tests) */
  launcher?: Launcher;
  timing?: Partial<DriverTiming>;
}
