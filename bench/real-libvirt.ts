// Issue 12, row 1: ours against the original libvirt-guests.sh on the real libvirtd + QEMU (scripts/real-libvirt),
// alternating original and ours on the same guests, each row with the physical limit measured in the same run.
//   npm run bench:real-libvirt        (after npm run build and bash scripts/real-libvirt/setup.sh)
//   BENCH_GUESTS=8 (guests per scenario; BENCH_QUICK=1: 2)  BENCH_ROUNDS=1 (original+ours alternations)
//   BENCH_SCENARIOS=idle,filled,stuck,acpi (a subset to run)  BENCH_SERIAL_START=1 (ours once more, PARALLEL_START=1)
//   the stuck row also runs ours with PARALLEL_SHUTDOWN=N (every guest asked at once: one timeout for all)
// Scenarios: suspend+restore of 64 MiB idle guests (no OS); suspend+restore of 256 MiB kernel guests that wrote
// 160 MiB; shutdown of guests that ignore ACPI (SHUTDOWN_TIMEOUT=10); shutdown of kernel guests that power off.
// The physical limit: the save images' bytes over the save directory's direct-I/O write (suspend) and read
// (restore) bandwidth, measured with dd oflag=direct / iflag=direct on a file of random bytes.
// The guests are this run's own (names b12-PID-…), removed at the end. `stop` acts on every running guest of
// qemu:///system, so each timed run first waits (bounded) until no other guest runs there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuSeconds } from '../test/helpers/memory.js';
import { ORIGINAL_SCRIPT, prepareOriginal } from '../test/helpers/original-script.js';
import { repoPath } from '../test/helpers/repo.js';
import { bootAndWait, defineGuest, missingPrerequisite, removeGuest, runningGuests, URI, virsh } from '../test/e2e/real-libvirt.js';
import { count, median, ratio, seconds, timeCommand } from './measure.js';

const N = count('BENCH_GUESTS', 8, 2);
const ROUNDS = count('BENCH_ROUNDS', 1, 1);
const SAVE_DIR = '/var/lib/libvirt/qemu/save';
const PARALLEL_SHUTDOWN = `ours, PARALLEL_SHUTDOWN=${N}`;
const chosen = (process.env.BENCH_SCENARIOS ?? 'idle,filled,stuck,acpi').split(',');

interface Scenario {
  key: string;
  title: string;
  kind: 'stuck' | 'acpi' | 'kstuck';
  mem: number;
  fill: number;
  config: string[];
  /** suspend scenarios are followed by a start (restore); shutdown scenarios by booting the guests again */
  suspend: boolean;
}

const SCENARIOS: Scenario[] = [
  { key: 'idle', title: 'suspend/restore, 64 MiB idle (no OS)', kind: 'stuck', mem: 64, fill: 0, config: ['ON_BOOT=start', 'ON_SHUTDOWN=suspend'], suspend: true },
  { key: 'filled', title: 'suspend/restore, 256 MiB with 160 MiB written', kind: 'acpi', mem: 256, fill: 160, config: ['ON_BOOT=start', 'ON_SHUTDOWN=suspend'], suspend: true },
  { key: 'stuck', title: 'shutdown, guests ignore ACPI (SHUTDOWN_TIMEOUT=10)', kind: 'stuck', mem: 64, fill: 0, config: ['ON_BOOT=ignore', 'ON_SHUTDOWN=shutdown', 'SHUTDOWN_TIMEOUT=10'], suspend: false },
  { key: 'acpi', title: 'shutdown, guests power off on ACPI', kind: 'acpi', mem: 128, fill: 0, config: ['ON_BOOT=ignore', 'ON_SHUTDOWN=shutdown'], suspend: false },
];

interface Run {
  ms: number;
  code: number;
  /** user+system CPU seconds of the command and its children (GNU time) */
  cpuS: number;
  /** the end of its stderr, for the error when it should have succeeded */
  stderr: string;
}

/** runs argv under GNU time (its CPU time, children included); its stderr shown on failure with BENCH_VERBOSE */
async function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const r = await timeCommand(argv, env);
  if (r.code !== 0 && process.env.BENCH_VERBOSE) process.stderr.write(r.stderr);
  return { ms: r.ms, code: r.code, cpuS: r.cpuMs / 1000, stderr: r.stderr.slice(-2000) };
}

/** waits (bounded) until every running guest of qemu:///system is one of ours: stop acts on all of them */
async function onlyOursRunning(ours: ReadonlySet<string>): Promise<void> {
  const deadline = Date.now() + 900_000;
  let said = false;
  for (;;) {
    const foreign = (await runningGuests()).filter((n) => !ours.has(n));
    if (foreign.length === 0) return;
    if (!said) process.stderr.write(`waiting until other guests stop running on ${URI}: ${foreign.join(', ')}\n`);
    said = true;
    if (Date.now() > deadline) throw new Error(`other guests keep running on ${URI} (${foreign.join(', ')}): a stop would act on them too`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function stateOf(name: string): Promise<string> {
  return (await virsh('domstate', name)).trim();
}

async function expectStates(names: readonly string[], want: string): Promise<void> {
  for (const n of names) {
    const s = await stateOf(n);
    if (s !== want) throw new Error(`${n} is ${s}, expected ${want}`);
  }
}

/** boots every guest that is not running, all at once; kernel guests are waited for until they say they are ready */
async function bootAll(names: readonly string[], kind: Scenario['kind']): Promise<void> {
  const down = [];
  for (const n of names) if ((await stateOf(n)) !== 'running') down.push(n);
  if (kind === 'stuck') {
    await Promise.all(down.map((n) => virsh('start', n)));
    return;
  }
  // two at a time: eight kernels booting under TCG on two loaded cores have panicked here; a panic gets one more try
  const boot = async (n: string): Promise<void> => {
    try {
      await bootAndWait(n, 300_000);
    } catch {
      await virsh('destroy', n).catch(() => undefined);
      await bootAndWait(n, 300_000);
    }
  };
  for (let i = 0; i < down.length; i += 2) await Promise.all(down.slice(i, i + 2).map(boot));
}

/** MB/s of direct-I/O writes and reads of `mib` MiB of random bytes in `dir` */
function directBandwidth(dir: string, mib: number): { writeMBs: number; readMBs: number } {
  const src = path.join('/dev/shm', `b12-rand-${process.pid}`);
  const file = path.join(dir, `b12-limit-${process.pid}.bin`);
  try {
    execFileSync('dd', ['if=/dev/urandom', `of=${src}`, 'bs=1M', `count=${mib}`], { stdio: 'ignore' });
    const time = (args: string[]): number => {
      const t0 = performance.now();
      execFileSync('dd', args, { stdio: 'ignore' });
      return (performance.now() - t0) / 1000;
    };
    const bytes = mib * 2 ** 20;
    const w = time([`if=${src}`, `of=${file}`, 'bs=4M', 'oflag=direct', 'conv=fsync']);
    const r = time([`if=${file}`, 'of=/dev/null', 'bs=4M', 'iflag=direct']);
    return { writeMBs: bytes / 1e6 / w, readMBs: bytes / 1e6 / r };
  } finally {
    rmSync(src, { force: true });
    rmSync(file, { force: true });
  }
}

function saveBytes(names: readonly string[]): number {
  return names.reduce((sum, n) => {
    const f = path.join(SAVE_DIR, `${n}.save`);
    return sum + (existsSync(f) ? statSync(f).size : 0);
  }, 0);
}

function libvirtdPid(): number | null {
  try {
    const pid = Number(execFileSync('pidof', ['libvirtd']).toString().trim().split(' ')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** the QEMU processes of these guests: pid → CPU seconds used so far */
function qemuCpu(names: readonly string[]): number {
  let sum = 0;
  for (const n of names) {
    const pidFile = `/run/libvirt/qemu/${n}.pid`;
    if (!existsSync(pidFile)) continue;
    try {
      sum += cpuSeconds(Number(readFileSync(pidFile, 'utf8').trim()));
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

interface Row {
  who: string;
  stop: Run;
  start?: Run;
  bytes: number;
  /** restore only: CPU seconds of libvirtd and of the restored QEMU processes during the start */
  libvirtdCpu?: number;
  qemuCpu?: number;
}

async function scenario(sc: Scenario, work: string): Promise<void> {
  const names = Array.from({ length: N }, (_, i) => `b12-${process.pid}-${sc.key}-${i + 1}`);
  const mine = new Set(names);
  try {
    for (const n of names) await defineGuest(sc.kind, n, sc.mem, sc.fill);
    await bootAll(names, sc.kind);
    const original = prepareOriginal(mkdtempSync(path.join(work, `orig-${sc.key}-`)));
    original.configure([`URIS=${URI}`, ...sc.config]);
    const config = path.join(work, `ours-${sc.key}.conf`);
    writeFileSync(config, `URIS=${URI}\n${sc.config.join('\n')}\nCONNECT_RETRIES=0\n`);
    const env = { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: path.join(work, `list-${sc.key}`), LIBVIRT_GUESTS_LOCK_FILE: path.join(work, `lock-${sc.key}`) };
    const ours = (cmd: string): string[] => [process.execPath, repoPath('bin/run.js'), cmd, '--quiet'];
    const variants = [
      { who: 'original', argv: (cmd: string) => ['sh', original.script, cmd], env: {} },
      { who: 'ours', argv: ours, env },
    ];
    if (sc.suspend && process.env.BENCH_SERIAL_START === '1') {
      // ours again with one restore at a time (PARALLEL_START=1; the default is 4): is parallel restoring worth it here?
      const serial = path.join(work, `ours-serial-${sc.key}.conf`);
      writeFileSync(serial, `URIS=${URI}\n${sc.config.join('\n')}\nCONNECT_RETRIES=0\nPARALLEL_START=1\n`);
      variants.push({ who: 'ours, PARALLEL_START=1', argv: ours, env: { ...env, LIBVIRT_GUESTS_CONFIG: serial } });
    }
    if (sc.key === 'stuck') {
      // ours again with every guest asked at once (PARALLEL_SHUTDOWN=N; the default 0 asks one at a time, as the
      // original does, so the default row takes one timeout per guest): one timeout for all
      const parallel = path.join(work, `ours-parallel-${sc.key}.conf`);
      writeFileSync(parallel, `URIS=${URI}\n${sc.config.join('\n')}\nCONNECT_RETRIES=0\nPARALLEL_SHUTDOWN=${N}\n`);
      variants.push({ who: PARALLEL_SHUTDOWN, argv: ours, env: { ...env, LIBVIRT_GUESTS_CONFIG: parallel } });
    }
    const rows: Row[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of variants) {
        await onlyOursRunning(mine);
        const stop = await timed(v.argv('stop'), v.env);
        if (sc.suspend) {
          if (stop.code !== 0) throw new Error(`${v.who} stop exited ${stop.code}: ${stop.stderr}`);
          await expectStates(names, 'shut off');
          const bytes = saveBytes(names);
          const lpid = libvirtdPid();
          const l0 = lpid ? cpuSeconds(lpid) : 0;
          const start = await timed(v.argv('start'), v.env);
          const libvirtdCpu = lpid ? cpuSeconds(lpid) - l0 : NaN;
          if (start.code !== 0) throw new Error(`${v.who} start exited ${start.code}: ${start.stderr}`);
          await expectStates(names, 'running');
          rows.push({ who: v.who, stop, start, bytes, libvirtdCpu, qemuCpu: qemuCpu(names) });
          console.log(`  (${sc.key}) ${v.who}: suspend ${seconds(stop.ms)}, restore ${seconds(start.ms)}, libvirtd CPU ${libvirtdCpu.toFixed(2)} s`);
        } else {
          // a stuck guest is still running after the timeout (both say so and exit non-zero); the others are off
          if (sc.kind !== 'stuck' && stop.code !== 0) throw new Error(`${v.who} stop exited ${stop.code}: ${stop.stderr}`);
          if (sc.kind !== 'stuck') await expectStates(names, 'shut off');
          rows.push({ who: v.who, stop, bytes: 0 });
          rmSync(original.listFile, { force: true });
          await bootAll(names, sc.kind);
        }
      }
    }
    // libvirtd and QEMU alone, on the same images: every `virsh start` in one virsh process one after the other
    // (what the original does, without its shell), then one virsh per guest all at once (what ours does)
    const raw: Record<'inTurn' | 'atOnce', number> = { inTurn: NaN, atOnce: NaN };
    if (sc.suspend) {
      for (const how of ['inTurn', 'atOnce'] as const) {
        await onlyOursRunning(mine);
        const stop = await timed(variants[1]!.argv('stop'), variants[1]!.env);
        if (stop.code !== 0) throw new Error(`ours stop (before the raw restore) exited ${stop.code}: ${stop.stderr}`);
        await expectStates(names, 'shut off');
        const t0 = performance.now();
        if (how === 'inTurn') await virsh(names.map((n) => `start ${n}`).join(' ; '));
        else await Promise.all(names.map((n) => virsh('start', n)));
        raw[how] = performance.now() - t0;
        console.log(`  (${sc.key}) virsh alone, ${how === 'inTurn' ? 'one after the other' : 'all at once'}: restore ${seconds(raw[how])}`);
        await expectStates(names, 'running');
        rmSync(env.LIBVIRT_GUESTS_LIST_FILE, { force: true });
      }
    }
    const bytes = Math.max(...rows.map((r) => r.bytes));
    const bw = sc.suspend ? directBandwidth(SAVE_DIR, 256) : null;
    console.log(`\n## ${sc.title}: ${N} guests, ${ROUNDS} round(s), ${new Date().toISOString()}`);
    const med = (who: string, pick: (r: Row) => number): number => median(rows.filter((r) => r.who === who).map(pick));
    const line = (what: string, pick: (r: Row) => number, limitMs: number | null): void => {
      const o = med('original', pick);
      const u = med('ours', pick);
      const limit = limitMs === null ? '' : `; physical limit ${seconds(limitMs)} → ours/limit ${ratio(u, limitMs)}, original/limit ${ratio(o, limitMs)}`;
      console.log(`${what.padEnd(8)} original ${seconds(o)}, ours ${seconds(u)} → ours/original ${ratio(u, o)}${limit}`);
    };
    if (bw) {
      const mb = bytes / 1e6;
      console.log(`save images ${(bytes / 2 ** 20).toFixed(0)} MiB; ${SAVE_DIR}: direct write ${bw.writeMBs.toFixed(0)} MB/s, direct read ${bw.readMBs.toFixed(0)} MB/s`);
      line('suspend', (r) => r.stop.ms, (mb / bw.writeMBs) * 1000);
      line('restore', (r) => r.start!.ms, (mb / bw.readMBs) * 1000);
      if (rows.some((r) => r.who === 'ours, PARALLEL_START=1')) {
        const one = med('ours, PARALLEL_START=1', (r) => r.start!.ms);
        console.log(`restore  ours with PARALLEL_START=1: ${seconds(one)} → /original ${ratio(one, med('original', (r) => r.start!.ms))}, /ours (PARALLEL_START=4) ${ratio(one, med('ours', (r) => r.start!.ms))}; libvirtd CPU ${med('ours, PARALLEL_START=1', (r) => r.libvirtdCpu!).toFixed(2)} s`);
      }
      const cpu = (who: string): string =>
        `${who}: CLI+children CPU ${med(who, (r) => r.start!.cpuS).toFixed(2)} s, libvirtd CPU ${med(who, (r) => r.libvirtdCpu!).toFixed(2)} s, restored QEMUs' CPU ${med(who, (r) => r.qemuCpu!).toFixed(2)} s`;
      console.log(`restore CPU — ${cpu('original')}; ${cpu('ours')}`);
      console.log(`restore by virsh alone (libvirtd + QEMU, no libvirt-guests): one after the other ${seconds(raw.inTurn)}, all at once ${seconds(raw.atOnce)}`);
    } else {
      line('shutdown', (r) => r.stop.ms, null);
      if (rows.some((r) => r.who === PARALLEL_SHUTDOWN)) {
        const all = med(PARALLEL_SHUTDOWN, (r) => r.stop.ms);
        console.log(`shutdown ours with PARALLEL_SHUTDOWN=${N}: ${seconds(all)} → /original ${ratio(all, med('original', (r) => r.stop.ms))}, /ours (PARALLEL_SHUTDOWN=0) ${ratio(all, med('ours', (r) => r.stop.ms))}`);
      }
    }
  } finally {
    for (const n of names) {
      await removeGuest(n);
      rmSync(`/var/log/libvirt/qemu/${n}.log`, { force: true });
    }
  }
}

async function main(): Promise<void> {
  const missing = await missingPrerequisite();
  if (missing) throw new Error(`real-libvirt bench: cannot run: ${missing}`);
  if (!existsSync(ORIGINAL_SCRIPT)) throw new Error(`${ORIGINAL_SCRIPT} is missing: run scripts/real-libvirt/setup.sh`);
  const work = mkdtempSync(path.join(tmpdir(), 'lgt-bench-real-'));
  try {
    for (const sc of SCENARIOS.filter((s) => chosen.includes(s.key))) await scenario(sc, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
