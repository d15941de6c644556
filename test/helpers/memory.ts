// The memory of a process as the kernel counts it (/proc/<pid>/status): resident now and its high-water mark; and
// the CPU time it has used (/proc/<pid>/stat).
import { readFileSync } from 'node:fs';

export const MiB = 1024 * 1024;

export interface ProcessMemory {
  /** VmRSS, bytes */
  rss: number;
  /** VmHWM: the highest VmRSS so far, bytes */
  hwm: number;
}

export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

export const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/** user+system CPU seconds a process has used so far (utime, stime in clock ticks, USER_HZ 100) */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
