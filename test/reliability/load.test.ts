// Load: 200 concurrent clients of a real guestd (150 on the read-write socket, 50 on the read-only one), each
// calling in a loop what libvirt-guests and monitoring tools call (list, state, persistence, managed save image,
// job info, time) over our native client, for 30 s (a few seconds in CI). Every call must succeed; the figures are
// the latencies (p50, p99, max), the throughput and the daemon's peak memory and CPU.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { openConnection } from '../../src/connect/index.js';
import { cleanupAllGuestd, startGuestd } from '../helpers/guestd.js';
import { MiB, cpuSeconds, processMemory } from '../helpers/memory.js';
import { LOAD_OPS, percentile, weighted } from '../helpers/load-ops.js';
import { log, random, report, seconds, type Random } from '../helpers/reliability.js';
import { guestctl, guestXml } from '../helpers/virsh.js';

const SUITE = 'load';
const CLIENTS = 200;
const READ_ONLY = 50;
const GUESTS = 10;
const RUNNING = 4;

after(cleanupAllGuestd);


// what the scale bench calls, and job info (which libvirtd refuses for an inactive domain, guestd answers)
const WEIGHTED = weighted([...LOAD_OPS, ['job info', (c, g) => c.jobInfo(g), 1]]);

test(`load: ${CLIENTS} concurrent clients, no error`, { timeout: 600_000 }, async () => {
  const r: Random = random(SUITE);
  const duration = seconds(4, 30);
  const gd = await startGuestd();
  for (let i = 1; i <= GUESTS; i++) {
    const file = path.join(gd.dir, `load${i}.xml`);
    writeFileSync(file, guestXml(`load${i}`, {}, 1));
    assert.equal((await guestctl(gd.uri, 'define', file)).code, 0);
    if (i <= RUNNING) assert.equal((await guestctl(gd.uri, 'start', `load${i}`)).code, 0);
  }
  const pid = gd.child.pid!;
  const connections = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) =>
      i < READ_ONLY ? openConnection(gd.roUri, { backend: 'native', readonly: true }) : openConnection(gd.uri, { backend: 'native' }),
    ),
  );
  const guests = await connections[0]!.listGuests({ which: 'all' });
  assert.equal(guests.length, GUESTS);

  const latencies: number[] = [];
  const errors: string[] = [];
  const callsPerClient = new Array<number>(CLIENTS).fill(0);
  const cpuBefore = cpuSeconds(pid);
  const started = Date.now();
  const deadline = started + duration * 1000;
  await Promise.all(
    connections.map(async (c, i) => {
      while (Date.now() < deadline) {
        const [name, op] = r.pick(WEIGHTED);
        const guest = r.pick(guests);
        const t0 = performance.now();
        try {
          await op(c, guest);
          latencies.push(performance.now() - t0);
          callsPerClient[i]!++;
        } catch (error) {
          errors.push(`client ${i} ${name} ${guest.name}: ${(error as Error).message}`);
          if (errors.length > 20) return;
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  const mem = processMemory(pid);
  await Promise.all(connections.map((c) => c.close()));

  latencies.sort((a, b) => a - b);
  const figures = {
    clients: CLIENTS,
    seconds: Math.round(elapsed * 10) / 10,
    calls: latencies.length,
    errors: errors.length,
    callsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
    p99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
    maxMs: Math.round(latencies.at(-1)! * 10) / 10,
    leastCallsOfAClient: Math.min(...callsPerClient),
    daemonPeakRssMiB: Math.round(mem.hwm / MiB),
    daemonCpuPercent: Math.round((cpu / elapsed) * 100),
    losses: errors.length,
  };
  log(SUITE, errors.slice(0, 5).join('\n') || 'no errors');
  report(SUITE, figures);
  assert.equal(gd.child.exitCode, null, 'guestd is alive');
  assert.deepEqual(errors, []);
  assert.ok(figures.leastCallsOfAClient > 0, 'a client was never served');
});
