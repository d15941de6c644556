// Suspend and resume N guests on a bundled guestd: the real libvirt-guests.sh against ours, on the same guests and
// the same daemon, in one run; and our suspend against the physical limit (writing the same bytes to the same disk).
//   node dist/bench/stop-start.js [GUESTS] [MEMORY_MIB]      (after npm run build; defaults 8 guests × 128 MiB;
//   BENCH_QUICK=1: 2 × 16 MiB)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupAllGuestd, startGuestd } from '../test/helpers/guestd.js';
import { ORIGINAL_SCRIPT, prepareOriginal } from '../test/helpers/original-script.js';
import { repoPath } from '../test/helpers/repo.js';
import { defineAndStart, expectAll } from './guests.js';
import { QUICK, timeCommand } from './measure.js';

const guests = Number(process.argv[2] ?? (QUICK ? 2 : 8));
const memoryMiB = Number(process.argv[3] ?? (QUICK ? 16 : 128));

interface Measured {
  ms: number;
  /** peak resident memory of the largest process of the run (GNU time's %M) */
  maxRssKiB: number;
}

/** Runs argv under GNU time: wall time, and the peak RSS of the biggest process in it (the script or a virsh). */
async function measure(what: string, argv: string[], env: Record<string, string>): Promise<Measured> {
  const r = await timeCommand(argv, env, 600_000);
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return { ms: r.ms, maxRssKiB: r.peakKiB };
}

/** sequential write of `bytes` to the same file system, fsync'd: what any save of that much memory needs at least */
function diskLimitMs(dir: string, bytes: number): number {
  const file = path.join(dir, 'limit.bin');
  const t0 = process.hrtime.bigint();
  execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${Math.ceil(bytes / 2 ** 20)}`, 'conv=fsync'], { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(file, { force: true });
  return ms;
}

async function main(): Promise<void> {
  if (!existsSync(ORIGINAL_SCRIPT)) throw new Error(`${ORIGINAL_SCRIPT} is missing: run scripts/real-libvirt/setup.sh first`);
  const gd = await startGuestd();
  const work = mkdtempSync(path.join(gd.dir, 'bench-'));
  try {
    const names = Array.from({ length: guests }, (_, i) => `bench${i + 1}`);
    await defineAndStart(gd.uri, work, names, memoryMiB, { agent: 'no' });
    const original = prepareOriginal(work);
    original.configure([`URIS='${gd.uri}'`, 'ON_BOOT=start', 'ON_SHUTDOWN=suspend']);
    const config = path.join(work, 'ours.conf');
    writeFileSync(config, `URIS='${gd.uri}'\nON_BOOT=start\nON_SHUTDOWN=suspend\nPARALLEL_SUSPEND=4\nPARALLEL_START=4\n`);
    const env = { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: path.join(work, 'list'), LIBVIRT_GUESTS_LOCK_FILE: path.join(work, 'lock') };
    const ours = (cmd: string): string[] => [process.execPath, repoPath('bin/run.js'), cmd, '--quiet'];
    const theirs = (cmd: string): string[] => ['sh', original.script, cmd];

    const theirStop = await measure('original stop', theirs('stop'), {});
    await expectAll(gd.uri, names, 'shut off');
    const bytes = names.reduce((n, name) => n + statSync(path.join(gd.stateDir, 'save', `${name}.save`)).size, 0);
    const theirStart = await measure('original start', theirs('start'), {});
    await expectAll(gd.uri, names, 'running');
    const ourStop = await measure('our stop', ours('stop'), env);
    await expectAll(gd.uri, names, 'shut off');
    const ourStart = await measure('our start', ours('start'), env);
    await expectAll(gd.uri, names, 'running');
    const limit = diskLimitMs(gd.stateDir, bytes);

    const f = (m: Measured) => `${(m.ms / 1000).toFixed(2)} s, peak ${(m.maxRssKiB / 1024).toFixed(0)} MiB`;
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log(`${guests} guests × ${memoryMiB} MiB on guestd (${(bytes / 2 ** 20).toFixed(0)} MiB of save images), ${new Date().toISOString()}`);
    console.log(`suspend: original ${f(theirStop)}; ours ${f(ourStop)} → time ours/original = ${ratio(ourStop.ms, theirStop.ms)}, memory ${ratio(ourStop.maxRssKiB, theirStop.maxRssKiB)}`);
    console.log(`resume:  original ${f(theirStart)}; ours ${f(ourStart)} → time ours/original = ${ratio(ourStart.ms, theirStart.ms)}, memory ${ratio(ourStart.maxRssKiB, theirStart.maxRssKiB)}`);
    console.log(`suspend vs the physical limit (dd of the same bytes, fsync'd, same disk: ${(limit / 1000).toFixed(2)} s) → ours/limit = ${ratio(ourStop.ms, limit)}`);
  } finally {
    await cleanupAllGuestd();
  }
}

await main();
