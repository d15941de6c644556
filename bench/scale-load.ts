// The load generator of bench/guestd-scale.ts, run as a process of its own so that its CPU is not the daemon's:
//   node dist/bench/scale-load.js URI CLIENTS SECONDS [LATENCIES_FILE]
// CLIENTS native connections to URI, each calling in a loop what libvirt-guests and monitoring tools call (list,
// state, persistence, managed save image, lookup) for SECONDS; prints one JSON line of figures on stdout, and writes
// every latency (ms, float64) to LATENCIES_FILE when given (the bench merges the rounds).
import { writeFileSync } from 'node:fs';
import { openConnection } from '../src/connect/index.js';
import { LOAD_OPS, percentile, weighted } from '../test/helpers/load-ops.js';

const [uri, clientsArg, secondsArg, latenciesFile] = process.argv.slice(2);
const clients = Number(clientsArg);
const seconds = Number(secondsArg);
if (!uri || !Number.isInteger(clients) || clients < 1 || !(seconds > 0)) {
  console.error('usage: scale-load URI CLIENTS SECONDS [LATENCIES_FILE]  (CLIENTS a whole number ≥ 1, SECONDS > 0)');
  process.exit(2);
}

const WEIGHTED = weighted(LOAD_OPS);
// a fixed sequence (no seed to carry): the same mix of calls against every daemon
let lcg = 12345;
const next = (n: number): number => {
  lcg = (lcg * 1103515245 + 12345) % 2 ** 31;
  return lcg % n;
};

const connections = await Promise.all(Array.from({ length: clients }, () => openConnection(uri, { backend: 'native' })));
const guests = await connections[0]!.listGuests({ which: 'all' });
if (guests.length === 0) throw new Error(`no domain on ${uri}`);
const latencies: number[] = [];
const errors: string[] = [];
const started = performance.now();
const deadline = started + seconds * 1000;
await Promise.all(
  connections.map(async (c) => {
    while (performance.now() < deadline) {
      const [name, op] = WEIGHTED[next(WEIGHTED.length)]!;
      const guest = guests[next(guests.length)]!;
      const t0 = performance.now();
      try {
        await op(c, guest);
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors.push(`${name} ${guest.name}: ${(error as Error).message}`);
        if (errors.length > 1000) return;
      }
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
await Promise.all(connections.map((c) => c.close()));
latencies.sort((a, b) => a - b);
if (latenciesFile) writeFileSync(latenciesFile, new Float64Array(latencies));
console.log(
  JSON.stringify({
    calls: latencies.length,
    errors: errors.length,
    firstError: errors[0] ?? null,
    seconds: elapsed,
    callsPerSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  }),
);
