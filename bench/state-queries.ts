// Benchmark: 200 domain state queries through the native client (DOMAIN_GET_STATE on one connection) against
// 200 `virsh domstate` processes, on the real libvirtd (qemu:///system), measured in one run.
//   node --import tsx bench/state-queries.ts [N]     or, after the build, node dist/bench/state-queries.js [N]
//   (BENCH_QUICK=1: N 20)
// Defines and starts a guest of its own (lgt-sq-PID, no OS) and removes it afterwards: others' guests are not touched.
import { execa } from 'execa';
import { openConnection } from '../src/connect/index.js';
import { defineGuest, missingPrerequisite, removeGuest, URI, virsh } from '../test/e2e/real-libvirt.js';
import { QUICK } from './measure.js';

const N = Number(process.argv[2] ?? (QUICK ? 20 : 200));

const missing = await missingPrerequisite();
if (missing) {
  console.error(`state-queries: cannot run: ${missing}`);
  process.exit(1);
}

const name = `lgt-sq-${process.pid}`;
try {
  await defineGuest('stuck', name, 64, 0);
  await virsh('start', name);
  const conn = await openConnection(URI, { backend: 'native' });
  const guest = await conn.lookup(name);
  await conn.state(guest); // warm up: the connection is open, the first reply decoded
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    const { state } = await conn.state(guest);
    if (state !== 'running') throw new Error(`${name} is ${state}, expected running`);
  }
  const nativeMs = performance.now() - t;
  await conn.close();

  t = performance.now();
  for (let i = 0; i < N; i++) {
    const r = await execa('virsh', ['-q', '-c', URI, 'domstate', guest.uuid], { env: { LC_ALL: 'C' } });
    if (r.stdout.trim() !== 'running') throw new Error(`virsh domstate said ${r.stdout}`);
  }
  const virshMs = performance.now() - t;

  const per = (ms: number): string => `${((ms * 1000) / N).toFixed(0)} µs/query`;
  console.log(`guest ${name} on ${URI}, ${N} state queries each`);
  console.log(`native DOMAIN_GET_STATE: ${nativeMs.toFixed(1)} ms (${per(nativeMs)})`);
  console.log(`virsh domstate forks:    ${virshMs.toFixed(1)} ms (${per(virshMs)})`);
  console.log(`ratio virsh / native:    ${(virshMs / nativeMs).toFixed(1)}x (native / virsh = ${(nativeMs / virshMs).toFixed(4)})`);
} finally {
  await removeGuest(name);
}
