// Suspend and resume N guests on a bundled guestd: the real libvirt-guests.sh against ours, on the same guests and
// the same daemon, in one run; and our suspend against the physical limit (writing the same bytes to the same disk).
//   node dist/bench/stop-start.js [GUESTS] [MEMORY_MIB]      (after npm run build; defaults 8 guests × 128 MiB)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupAllGuestd, startGuestd } from '../test/helpers/guestd.js';
import { ORIGINAL_SCRIPT, prepareOriginal } from '../test/helpers/original-script.js';
import { runGuests } from '../test/helpers/cli.js';
import { guestXml, virsh } from '../test/helpers/virsh.js';

const guests = Number(process.argv[2] ?? 8);
const memoryMiB = Number(process.argv[3] ?? 128);

async function timed(what: string, run: () => Promise<{ code: number; stderr: string }>): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await run();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return ms;
}

async function allState(uri: string, want: RegExp, names: string[]): Promise<void> {
  const list = (await virsh(uri, 'list', '--all')).stdout;
  for (const n of names) if (!want.test(list.split('\n').find((l) => l.includes(` ${n} `)) ?? '')) throw new Error(`${n} not ${want}: ${list}`);
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
  if (!existsSync(ORIGINAL_SCRIPT)) throw new Error(`${ORIGINAL_SCRIPT} is missing: run ../shared/real-libvirt/setup.sh first`);
  const gd = await startGuestd();
  const work = mkdtempSync(path.join(gd.dir, 'bench-'));
  try {
    const names = Array.from({ length: guests }, (_, i) => `bench${i + 1}`);
    for (const n of names) {
      const file = path.join(work, `${n}.xml`);
      writeFileSync(file, guestXml(n, { agent: 'no' }, memoryMiB));
      await virsh(gd.uri, 'define', file);
      await virsh(gd.uri, 'start', n);
    }
    const original = prepareOriginal(work);
    original.configure([`URIS='${gd.uri}'`, 'ON_BOOT=start', 'ON_SHUTDOWN=suspend']);
    const config = path.join(work, 'ours.conf');
    writeFileSync(config, `URIS='${gd.uri}'\nON_BOOT=start\nON_SHUTDOWN=suspend\nPARALLEL_SUSPEND=4\nPARALLEL_START=4\n`);
    const env = { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: path.join(work, 'list'), LIBVIRT_GUESTS_LOCK_FILE: path.join(work, 'lock') };
    const ours = (cmd: string) => async () => {
      const r = await runGuests([cmd, '--quiet'], env);
      return { code: r.exitCode, stderr: r.stderr };
    };

    const theirStop = await timed('original stop', () => original.run('stop'));
    await allState(gd.uri, /shut off/, names);
    const bytes = names.reduce((n, name) => n + statSync(path.join(gd.stateDir, 'save', `${name}.save`)).size, 0);
    const theirStart = await timed('original start', () => original.run('start'));
    await allState(gd.uri, /running/, names);
    const ourStop = await timed('our stop', ours('stop'));
    await allState(gd.uri, /shut off/, names);
    const ourStart = await timed('our start', ours('start'));
    await allState(gd.uri, /running/, names);
    const limit = diskLimitMs(gd.stateDir, bytes);

    const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(`${guests} guests × ${memoryMiB} MiB on guestd (${(bytes / 2 ** 20).toFixed(0)} MiB of save images), ${new Date().toISOString()}`);
    console.log(`suspend: original ${f(theirStop)}, ours ${f(ourStop)} → ours/original = ${(ourStop / theirStop).toFixed(2)}`);
    console.log(`resume:  original ${f(theirStart)}, ours ${f(ourStart)} → ours/original = ${(ourStart / theirStart).toFixed(2)}`);
    console.log(`suspend vs the physical limit (dd of the same bytes, fsync'd, same disk: ${f(limit)}) → ours/limit = ${(ourStop / limit).toFixed(2)}`);
  } finally {
    await cleanupAllGuestd();
  }
}

await main();
