// What a load of clients calls, as libvirt-guests and monitoring tools do, with weights, and its percentiles: the load suite
// (test/reliability/load.test.ts) and the scale bench (bench/scale-load.ts) draw from the same table.
import type { Connection } from '../../src/connect/index.js';
import type { GuestRef } from '../../src/connect/connection.js';

export type LoadOp = (c: Connection, guest: GuestRef) => Promise<unknown>;

/** calls every daemon answers for an inactive domain too */
export const LOAD_OPS: [string, LoadOp, number][] = [
  ['list', (c) => c.listGuests({ which: 'all' }), 4],
  ['state', (c, g) => c.state(g), 3],
  ['persistent', (c, g) => c.isPersistent(g), 1],
  ['managed save image', (c, g) => c.hasManagedSave(g), 1],
  ['lookup', (c, g) => c.lookup(g.uuid), 1],
];

/** each operation as many times as its weight */
export const weighted = (ops: [string, LoadOp, number][]): (readonly [string, LoadOp])[] =>
  ops.flatMap(([name, op, weight]) => Array.from({ length: weight }, () => [name, op] as const));

/** the p-th percentile of ascending `sorted` (NaN when empty) */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
