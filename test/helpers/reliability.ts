// The reliability suites (test/reliability/*): fault injection, fuzzing, security and load. Each runs a small count
// in the normal suite (CI) and the full count with `npm run reliability` (RELIABILITY=full). Randomness comes from
// one seeded generator per suite, and every trial prints what it drew, so a failure can be replayed with
// RELIABILITY_SEED=<seed> (and RELIABILITY_TRIALS=<n> to run exactly n trials).
import { appendFileSync } from 'node:fs';

export type Scale = 'ci' | 'full';

export const scale: Scale = process.env.RELIABILITY === 'full' ? 'full' : 'ci';

/** how many trials a suite runs: RELIABILITY_TRIALS, else its CI or its full count */
export function trials(ci: number, full: number): number {
  const forced = Number(process.env.RELIABILITY_TRIALS);
  if (Number.isSafeInteger(forced) && forced > 0) return forced;
  return scale === 'full' ? full : ci;
}

/** seconds a time-bounded suite (load) runs */
export function seconds(ci: number, full: number): number {
  const forced = Number(process.env.RELIABILITY_SECONDS);
  if (Number.isFinite(forced) && forced > 0) return forced;
  return scale === 'full' ? full : ci;
}

export interface Random {
  readonly seed: number;
  /** in [0, 1) */
  next(): number;
  /** integer in [min, max] */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
}

/** a seeded generator (mulberry32): RELIABILITY_SEED replays a run */
export function random(suite: string): Random {
  const given = Number(process.env.RELIABILITY_SEED);
  const seed = Number.isSafeInteger(given) ? given >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
  let a = seed;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  log(suite, `seed ${seed} (replay with RELIABILITY_SEED=${seed})`);
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}

/** one line of a suite's story (trial parameters, what happened), on stderr so the test runner shows it */
export function log(suite: string, line: string): void {
  process.stderr.write(`# [${suite}] ${line}\n`);
}

/**
 * A suite's figures at the end of its run: printed, and appended as one JSON line to $RELIABILITY_REPORT when set
 * (`npm run reliability` collects them into the table the README quotes).
 */
export function report(suite: string, figures: Record<string, string | number | boolean>): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  process.stderr.write(`# [${suite}] result (${scale}): ${text}\n`);
  const file = process.env.RELIABILITY_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ suite, scale, ...figures })}\n`);
}
