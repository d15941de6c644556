// Processes as /proc shows them: the one reader of process identity. A pid alone is not an identity (pids are
// reused): a process is its pid plus its start time (field 22 of /proc/PID/stat, clock ticks since boot), and a
// zombie has ended (it only waits for its parent to reap it; on a host whose PID 1 does not reap orphans it waits
// forever). Guest processes, the run lock and guestd's PID file all judge liveness here.
import { readFileSync } from 'node:fs';

export interface ProcessStat {
  /** field 3: R, S, D, Z (zombie), X (dead)… */
  state: string;
  /** field 22 */
  startTime: string;
  /** utime + stime (fields 14, 15), clock ticks */
  cpuTicks: number;
  /** field 39: the CPU it last ran on */
  lastCpu: number;
}

/** USER_HZ, the unit of the tick counts in /proc/PID/stat (100 on every Linux ABI Node runs on) */
export const CLOCK_TICKS_PER_SECOND = 100;

/** /proc/PID/stat as it is, zombies included; null when there is no such process */
export function processStat(pid: number): ProcessStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: the fields after it start behind the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3; field N is rest[N - 3]
  const startTime = rest[19];
  if (startTime === undefined) return null;
  return { state: rest[0] ?? '?', startTime, cpuTicks: Number(rest[11]) + Number(rest[12]), lastCpu: Number(rest[36] ?? 0) || 0 };
}

/** the start time of a live process; null when it is gone or has ended (a zombie) */
export function processStartTime(pid: number): string | null {
  const stat = processStat(pid);
  return stat === null || stat.state === 'Z' || stat.state === 'X' ? null : stat.startTime;
}

/** the pid is alive and is the process that was started at `startTime` */
export function isSameProcess(pid: number, startTime: string): boolean {
  return processStartTime(pid) === startTime;
}

/** signal only the recorded process; false when it is gone (or the pid now belongs to another process) */
export function signalProcess(pid: number, startTime: string, signal: NodeJS.Signals): boolean {
  if (!isSameProcess(pid, startTime)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** the arguments of a live process (/proc/PID/cmdline); null when it is gone or has ended */
export function commandLine(pid: number): string[] | null {
  if (processStartTime(pid) === null) return null;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
  } catch {
    return null;
  }
}
