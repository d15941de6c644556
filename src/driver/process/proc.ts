// Process identity and signals, from /proc. A pid alone is not an identity (pids are reused): we record the
// process start time (field 22 of /proc/PID/stat, clock ticks since boot) and compare it before trusting or
// signalling a pid.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  startTime: string;
  /** utime + stime, clock ticks */
  cpuTicks: number;
  state: string;
}

export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: fields after it start behind the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3]
  const state = rest[0] ?? '?';
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const startTime = rest[19];
  if (startTime === undefined) return null;
  return { startTime, cpuTicks: utime + stime, state };
}

/** the pid is alive (not a zombie) and is the process that was started at `startTime` */
export function isSameProcess(pid: number, startTime: string): boolean {
  const st = readProcStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X' && st.startTime === startTime;
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

export const CLOCK_TICKS_PER_SECOND = 100;
