// Benchmark: 200 domain state queries through the native client (DOMAIN_GET_STATE on one connection) against
// 200 `virsh domstate` processes, on the real libvirtd (qemu:///system), measured in one run.
//   node --import tsx bench/state-queries.ts [N]     or, after the build, node dist/bench/state-queries.js [N]
// Uses a running lgt-* guest when there is one; otherwise creates lgt-stuck-1 and removes it afterwards.
import { execa } from 'execa';
import { openConnection } from '../src/connect/index.js';
import { guestsClean, guestsUp, missingPrerequisite, URI, virsh } from '../test/e2e/real-libvirt.js';

const N = Number(process.argv[2] ?? 200);

const missing = await missingPrerequisite();
if (missing) {
  console.error(`state-queries: cannot run: ${missing}`);
  process.exit(1);
}

let name = (await virsh('list', '--name')).split('\n').map((l) => l.trim()).find((n) => n.startsWith('lgt-'));
const created = name === undefined;
if (created) {
  await guestsUp('stuck', 1);
  name = 'lgt-stuck-1';
}

try {
  const conn = await openConnection(URI, { backend: 'native' });
  const guest = await conn.lookup(name!);
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
  if (created) await guestsClean();
}
