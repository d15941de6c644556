// The memory of a process as the kernel counts it (/proc/<pid>/status): resident now and its high-water mark.
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
