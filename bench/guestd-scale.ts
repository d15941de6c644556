// Benchmark: guestd at scale, next to real libvirtd doing the same work in the same run (issue 12, row 4).
//   npm run bench:scale            (after npm run build; BENCH_QUICK=1 for a short run: 5 s of load, 1 000 domains)
// The real libvirtd is a private instance started here (never the shared one): Debian's libvirtd 9.0 in session
// mode, run as `nobody` in a temp dir, with its QEMU driver (qemu:///session) — the comparable driver: it keeps each
// persistent definition in an XML file, as guestd does, and loads them all when it starts. The test:/// driver keeps
// nothing on disk, so it has no define cost nor restart to compare.
// Rows, each on both daemons: 200 concurrent clients for 30 s (the load generator is another process,
// bench/scale-load.ts): throughput, p50, p99, errors, the daemon's CPU and peak RSS; define N domains (32 in flight)
// and list them (one raw CONNECT_LIST_ALL_DOMAINS, our client's listGuests); daemon restart with N domains: time from
// the daemon's spawn to the first answer listing all N.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { openConnection } from '../src/connect/index.js';
import type { NativeConnection } from '../src/connect/native.js';
import { ListAllDomainsFlags } from '../src/remote/enums.js';
import { PROC } from '../src/remote/protocol.js';
import { endDaemon } from '../test/e2e/tls-libvirtd.js';
import { programArgs, startGuestd, type GuestdInstance } from '../test/helpers/guestd.js';
import { percentile } from '../test/helpers/load-ops.js';
import { guestXml } from '../test/helpers/virsh.js';
import { MiB, cpuSeconds, processMemory } from '../test/helpers/memory.js';
import { QUICK, count, median } from './measure.js';

const CLIENTS = count('BENCH_CLIENTS', 200, 200);
const LOAD_SECONDS = count('BENCH_LOAD_SECONDS', 30, 5);
const DOMAINS = count('BENCH_DOMAINS', 10_000, 1000);
const LOAD_DOMAINS = 10;
const IN_FLIGHT_CONNECTIONS = 8;
const IN_FLIGHT_PER_CONNECTION = 4;
const NOBODY = 65534;
const NOGROUP = 65534;
const tag = `sc${process.pid}`;

interface Daemon {
  label: string;
  uri: string;
  pid(): number;
  xml(name: string): string;
  /** stop, start again; ms from the spawn to the first answer that counts all `expected` domains, and that lists them */
  restart(expected: number): Promise<{ firstMs: number; fullMs: number }>;
  cleanup(): Promise<void>;
}

// ---- the daemons

async function guestdDaemon(): Promise<Daemon> {
  let gd: GuestdInstance = await startGuestd();
  return {
    label: 'guestd (process driver)',
    uri: gd.uri,
    pid: () => gd.child.pid!,
    xml: (name) => guestXml(name),
    async restart(expected) {
      await gd.stop();
      const t0 = performance.now();
      gd = await startGuestd({ dir: gd.dir, waitReady: false });
      const first = await firstAnswer(gd.uri, expected, gd.child);
      return { firstMs: first - t0, fullMs: (await firstAnswer(gd.uri, expected, gd.child, true)) - t0 };
    },
    cleanup: () => gd.cleanup(),
  };
}

async function libvirtdDaemon(): Promise<Daemon> {
  const dir = mkdtempSync(path.join(tmpdir(), 'scale-libvirtd-'));
  chownSync(dir, NOBODY, NOGROUP);
  const socket = path.join(dir, 'run', 'libvirt', 'libvirt-sock');
  const uri = `qemu+unix:///session?socket=${socket}`;
  const env = {
    HOME: dir,
    XDG_RUNTIME_DIR: path.join(dir, 'run'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    PATH: '/usr/sbin:/usr/bin:/bin',
  };
  const start = (): ChildProcess =>
    spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOGROUP}`, '--clear-groups', '/usr/sbin/libvirtd'], {
      env,
      stdio: ['ignore', 'ignore', 'ignore'],
    });
  let child = start();
  await firstAnswer(uri, 0, child);
  const exited = (c: ChildProcess): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));
  const daemon: Daemon = {
    label: 'libvirtd 9.0 (QEMU driver, qemu:///session, private instance)',
    uri,
    pid: () => child.pid!,
    xml: (name) =>
      `<domain type='qemu'><name>${name}</name><memory unit='MiB'>16</memory><os><type arch='x86_64'>hvm</type></os></domain>`,
    async restart(expected) {
      child.kill('SIGTERM');
      await exited(child);
      const t0 = performance.now();
      child = start();
      const first = await firstAnswer(uri, expected, child);
      return { firstMs: first - t0, fullMs: (await firstAnswer(uri, expected, child, true)) - t0 };
    },
    async cleanup() {
      await endDaemon(child, exited(child));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // the QEMU driver probes QEMU's capabilities on the first define: not part of any figure
  const conn = await native(uri);
  const warm = await conn.remote.call(PROC.DOMAIN_DEFINE_XML, { xml: daemon.xml(`${tag}-warmup`) });
  await conn.remote.call(PROC.DOMAIN_UNDEFINE, { dom: warm.dom });
  await conn.close();
  return daemon;
}

const native = async (uri: string): Promise<NativeConnection> =>
  (await openConnection(uri, { backend: 'native' })) as NativeConnection;

const ALL = ListAllDomainsFlags.ACTIVE | ListAllDomainsFlags.INACTIVE;

/**
 * when a fresh connection first answers that `expected` domains exist (performance.now()), polling every 5 ms for
 * 120 s; `full`: when it first lists them all (names, uuids)
 */
async function firstAnswer(uri: string, expected: number, child: ChildProcess, full = false): Promise<number> {
  const deadline = performance.now() + 120_000;
  let last: unknown;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the daemon of ${uri} exited`);
    try {
      const conn = await native(uri);
      try {
        const r = await conn.remote.call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: full ? 1 : 0, flags: ALL });
        if ((full ? r.domains.length : r.ret) >= expected) return performance.now();
      } finally {
        await conn.close();
      }
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${uri}: no answer listing ${expected} domains within 120 s: ${String(last)}`);
}

// ---- measurements

/** resets VmHWM to the current RSS (proc(5): clear_refs, 5) */
function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

interface LoadFigures {
  calls: number;
  errors: number;
  firstError: string | null;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuPercent: number;
  peakRssMiB: number;
}

/** what one daemon's load rounds add up to */
interface LoadTally {
  latencies: number[];
  errors: number;
  firstError: string | null;
  seconds: number;
  cpuSeconds: number;
}

async function defineLoadDomains(d: Daemon): Promise<void> {
  const conn = await native(d.uri);
  for (let i = 1; i <= LOAD_DOMAINS; i++) await conn.remote.call(PROC.DOMAIN_DEFINE_XML, { xml: d.xml(`${tag}-load${i}`) });
  await conn.close();
}

/** one round of load on `d`, added to `tally` */
async function loadRound(d: Daemon, seconds: number, tally: LoadTally, scratch: string): Promise<void> {
  const pid = d.pid();
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const file = path.join(scratch, 'latencies.bin');
  const child = spawn(
    process.execPath,
    [...programArgs('bench/scale-load.ts'), d.uri, String(CLIENTS), String(seconds), file],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  tally.seconds += (performance.now() - t0) / 1000;
  tally.cpuSeconds += cpuSeconds(pid) - cpu0;
  const figures = JSON.parse(out) as { errors: number; firstError: string | null };
  tally.errors += figures.errors;
  tally.firstError ??= figures.firstError;
  const raw = readFileSync(file);
  // no push(...spread): a round of a few hundred thousand calls would overflow the call stack's argument limit
  for (const ms of new Float64Array(raw.buffer, raw.byteOffset, raw.length / 8)) tally.latencies.push(ms);
}

function loadFigures(d: Daemon, t: LoadTally): LoadFigures {
  const sorted = t.latencies.sort((a, b) => a - b);
  const pct = (p: number): number => percentile(sorted, p);
  return {
    calls: sorted.length,
    errors: t.errors,
    firstError: t.firstError,
    callsPerSecond: sorted.length / t.seconds,
    p50Ms: pct(50),
    p99Ms: pct(99),
    cpuPercent: (t.cpuSeconds / t.seconds) * 100,
    peakRssMiB: processMemory(d.pid()).hwm / MiB,
  };
}

/** `n` more defines on `d`, IN_FLIGHT_CONNECTIONS × IN_FLIGHT_PER_CONNECTION calls in flight; seconds taken */
async function defineMany(d: Daemon, from: number, n: number): Promise<number> {
  const conns = await Promise.all(Array.from({ length: IN_FLIGHT_CONNECTIONS }, () => native(d.uri)));
  let next = from;
  const end = from + n;
  const t0 = performance.now();
  await Promise.all(
    conns.flatMap((c) =>
      Array.from({ length: IN_FLIGHT_PER_CONNECTION }, async () => {
        while (next < end) {
          const i = next++;
          await c.remote.call(PROC.DOMAIN_DEFINE_XML, { xml: d.xml(`${tag}-d${i}`) });
        }
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(conns.map((c) => c.close()));
  return seconds;
}

async function listTimes(d: Daemon, expected: number): Promise<{ rawMs: number; listGuestsMs: number }> {
  const conn = await native(d.uri);
  const raw: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    const { domains } = await conn.remote.call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags: ALL });
    raw.push(performance.now() - t);
    t = performance.now();
    const guests = await conn.listGuests({ which: 'all' });
    ours.push(performance.now() - t);
    if (domains.length !== expected || guests.length !== expected)
      throw new Error(`${d.label}: listed ${domains.length} and ${guests.length} domains, expected ${expected}`);
  }
  await conn.close();
  return { rawMs: median(raw), listGuestsMs: median(ours) };
}

// ---- the run

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface Row {
  load: LoadFigures;
  definesPerSecond: number;
  rawMs: number;
  listGuestsMs: number;
  restartMs: number;
  restartFullMs: number;
}

if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/libvirtd')) {
  console.error('guestd-scale: needs root and /usr/sbin/libvirtd (bash scripts/real-libvirt/setup.sh installs it)');
  process.exit(1);
}

// both daemons run side by side and every phase alternates between them, in rounds, so that whatever else the
// machine does falls on both alike
const loadBefore = loadavg()[0]!;
const daemons: Record<'guestd' | 'libvirtd', Daemon> = { guestd: await guestdDaemon(), libvirtd: await libvirtdDaemon() };
const both = Object.values(daemons);
const scratch = mkdtempSync(path.join(tmpdir(), 'scale-bench-'));
const rows: Partial<Record<'guestd' | 'libvirtd', Row>> = {};
try {
  const rounds = QUICK ? 1 : 3;
  const tallies = new Map<Daemon, LoadTally>();
  for (const d of both) {
    await defineLoadDomains(d);
    resetPeakRss(d.pid());
    tallies.set(d, { latencies: [], errors: 0, firstError: null, seconds: 0, cpuSeconds: 0 });
  }
  for (let r = 0; r < rounds; r++)
    for (const d of both) {
      console.error(`${d.label}: load round ${r + 1}/${rounds}, ${CLIENTS} clients for ${LOAD_SECONDS / rounds} s`);
      await loadRound(d, LOAD_SECONDS / rounds, tallies.get(d)!, scratch);
    }
  const load = new Map(both.map((d) => [d, loadFigures(d, tallies.get(d)!)]));

  const chunk = Math.min(1000, DOMAINS);
  const defineSeconds = new Map<Daemon, number>(both.map((d) => [d, 0]));
  for (let from = 0; from < DOMAINS; from += chunk) {
    console.error(`defines ${from + 1}–${Math.min(DOMAINS, from + chunk)} of ${DOMAINS} on each daemon`);
    for (const d of both) defineSeconds.set(d, defineSeconds.get(d)! + (await defineMany(d, from, Math.min(chunk, DOMAINS - from))));
  }
  const total = DOMAINS + LOAD_DOMAINS;
  for (const [key, d] of Object.entries(daemons) as ['guestd' | 'libvirtd', Daemon][]) {
    const lists = await listTimes(d, total);
    console.error(`${d.label}: restart with ${total} domains`);
    const restart = await d.restart(total);
    rows[key] = {
      load: load.get(d)!,
      definesPerSecond: DOMAINS / defineSeconds.get(d)!,
      ...lists,
      restartMs: restart.firstMs,
      restartFullMs: restart.fullMs,
    };
  }
} finally {
  await Promise.all(both.map((d) => d.cleanup()));
  rmSync(scratch, { recursive: true, force: true });
}
const labels = { guestd: daemons.guestd.label, libvirtd: daemons.libvirtd.label };
const loadAfter = loadavg()[0]!;

const g = rows['guestd']!;
const l = rows['libvirtd']!;
const lines: string[] = [
  `guestd at scale, ${QUICK ? 'quick' : 'full'} run: ${CLIENTS} clients × ${LOAD_SECONDS} s on ${LOAD_DOMAINS} domains; ${DOMAINS} domains defined`,
  `  guestd:   ${labels['guestd']}`,
  `  libvirtd: ${labels['libvirtd']}`,
  // a busy machine starves the single-threaded guestd more than the many threads of libvirtd: say how busy it was
  `  machine: ${cpus().length} cores, load average ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end`,
  '',
  `| row | guestd | libvirtd | guestd/libvirtd |`,
  `|---|---|---|---|`,
  `| load: calls/s | ${fmt(g.load.callsPerSecond)} | ${fmt(l.load.callsPerSecond)} | ${fmt(g.load.callsPerSecond / l.load.callsPerSecond, 2)} |`,
  `| load: p50 ms | ${fmt(g.load.p50Ms, 1)} | ${fmt(l.load.p50Ms, 1)} | ${fmt(g.load.p50Ms / l.load.p50Ms, 2)} |`,
  `| load: p99 ms | ${fmt(g.load.p99Ms, 1)} | ${fmt(l.load.p99Ms, 1)} | ${fmt(g.load.p99Ms / l.load.p99Ms, 2)} (target ≤ 1) |`,
  `| load: errors | ${g.load.errors} | ${l.load.errors} | |`,
  `| load: daemon CPU % | ${fmt(g.load.cpuPercent)} | ${fmt(l.load.cpuPercent)} | ${fmt(g.load.cpuPercent / l.load.cpuPercent, 2)} |`,
  `| load: daemon peak RSS MiB | ${fmt(g.load.peakRssMiB)} | ${fmt(l.load.peakRssMiB)} | ${fmt(g.load.peakRssMiB / l.load.peakRssMiB, 2)} |`,
  `| defines/s (${DOMAINS}, 32 in flight) | ${fmt(g.definesPerSecond)} | ${fmt(l.definesPerSecond)} | ${fmt(g.definesPerSecond / l.definesPerSecond, 2)} (target guestd ≥ 1 000/s) |`,
  `| raw CONNECT_LIST_ALL_DOMAINS ms | ${fmt(g.rawMs)} | ${fmt(l.rawMs)} | ${fmt(g.rawMs / l.rawMs, 2)} |`,
  `| listGuests ms | ${fmt(g.listGuestsMs)} | ${fmt(l.listGuestsMs)} | ${fmt(g.listGuestsMs / l.listGuestsMs, 2)} |`,
  `| listGuests / raw list | ${fmt(g.listGuestsMs / g.rawMs, 2)} | ${fmt(l.listGuestsMs / l.rawMs, 2)} | (target ≤ 2) |`,
  `| restart: spawn to first answer (all domains counted) ms | ${fmt(g.restartMs)} | ${fmt(l.restartMs)} | ${fmt(g.restartMs / l.restartMs, 2)} (target guestd ≤ 1 000 ms) |`,
  `| restart: spawn to the first full list ms | ${fmt(g.restartFullMs)} | ${fmt(l.restartFullMs)} | ${fmt(g.restartFullMs / l.restartFullMs, 2)} |`,
];
if (g.load.firstError) lines.push(`guestd's first load error: ${g.load.firstError}`);
if (l.load.firstError) lines.push(`libvirtd's first load error: ${l.load.firstError}`);
console.log(lines.join('\n'));
