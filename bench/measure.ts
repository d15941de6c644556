// What the bench scripts share: quick mode, timing whole commands, medians and ratios printed the same way.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runProgram, type RunResult } from '../test/helpers/virsh.js';

/** BENCH_QUICK=1: small N, so a run checks that the script works rather than what it measures */
export const QUICK = process.env.BENCH_QUICK === '1';

/** N from the environment variable `name`, else the quick or the full default */
export function count(name: string, full: number, quick: number): number {
  const given = process.env[name];
  if (given === undefined || given === '') return QUICK ? quick : full;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${given} is not a positive whole number`);
  return n;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const ratio = (a: number, b: number): string => (a / b).toFixed(2);

export interface Command {
  label: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** exit statuses that count as success (status exits 3 when stopped) */
  okExits?: number[];
}

export interface Timing {
  /** wall milliseconds */
  ms: number;
  /** user+system CPU milliseconds of the command (GNU time, children included) */
  cpuMs: number;
}

// GNU time's figures: the peak resident KiB of the biggest process of the run, then user and system CPU seconds of
// the command and its children, on the last line of its output file (a line before says how a failed command ended)
const TIME_FORMAT = '%M %U %S';
let timeFiles = 0;

function readTimeFile(file: string): { cpuMs: number; peakKiB: number } {
  try {
    const [peakKiB, user, sys] = readFileSync(file, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return { peakKiB: peakKiB!, cpuMs: (user! + sys!) * 1000 };
  } finally {
    rmSync(file, { force: true });
  }
}

const timeFile = (): string => path.join(tmpdir(), `lgt-bench-time-${process.pid}-${++timeFiles}`);

/** one run of a whole command under GNU time, its output read and dropped */
export function timeOnce(cmd: Command): Timing {
  const out = timeFile();
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', TIME_FORMAT, '-o', out, ...cmd.argv], { env: { ...process.env, ...cmd.env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const ok = cmd.okExits ?? [0];
  if (r.error || !ok.includes(r.status ?? -1)) {
    rmSync(out, { force: true });
    throw new Error(`${cmd.label} failed (exit ${r.status}): ${r.error?.message ?? r.stderr.toString()}`);
  }
  return { ms, cpuMs: readTimeFile(out).cpuMs };
}

export interface TimedRun extends RunResult {
  /** wall milliseconds */
  ms: number;
  /** user+system CPU milliseconds of the command, children included */
  cpuMs: number;
  /** peak resident KiB of the biggest process of the run (the command or one of its children) */
  peakKiB: number;
}

/** one run of argv under GNU time, while the event loop runs on (benches that watch daemons meanwhile); any exit */
export async function timeCommand(argv: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 1_800_000): Promise<TimedRun> {
  const out = timeFile();
  const t0 = performance.now();
  const r = await runProgram('/usr/bin/time', ['-f', TIME_FORMAT, '-o', out, ...argv], { env, timeoutMs });
  const ms = performance.now() - t0;
  try {
    return { ...r, ms, ...readTimeFile(out) };
  } catch (error) {
    // no figures: GNU time itself did not run or end normally (not installed, or killed)
    throw new Error(`${argv.join(' ')} under /usr/bin/time (GNU time, Debian package \`time\`): no figures (${String(error)}); exit ${r.code} after ${Math.round(ms)} ms (timeout ${timeoutMs} ms): ${r.stderr.slice(-2000)}`);
  }
}

/**
 * Each command `runs` times, in turn (A B C … A B C …) after one warm-up round, so a drift of the machine's speed
 * touches all alike; returns every command's timings, in the order given.
 */
export function timeInTurn(commands: readonly Command[], runs: number): Timing[][] {
  for (const c of commands) timeOnce(c);
  const times = commands.map(() => [] as Timing[]);
  for (let i = 0; i < runs; i++) commands.forEach((c, k) => times[k]!.push(timeOnce(c)));
  return times;
}

/** the median of the pairwise ratios a[i]/b[i]: the ratio of two commands timed in turn */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}
