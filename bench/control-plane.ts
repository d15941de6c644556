// Issue 12, row 2: the control plane against guestd. Stop (managed save) then start of BENCH_GUESTS tiny guests
// (4 MiB, so saving is nothing and the calls are everything): ours over the native client, ours through virsh
// (--backend virsh), and the original libvirt-guests.sh through virsh, on the same guestd and guests, one run.
//   npm run bench:control-plane       (after npm run build; BENCH_GUESTS=200 by default, BENCH_QUICK=1 for 10)
// Every variant runs with its default settings (ON_SHUTDOWN=suspend, ON_BOOT=start, nothing else set).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupAllGuestd, startGuestd } from '../test/helpers/guestd.js';
import { ORIGINAL_SCRIPT, prepareOriginal } from '../test/helpers/original-script.js';
import { repoPath } from '../test/helpers/repo.js';
import { runProgram } from '../test/helpers/virsh.js';
import { defineAndStart, expectAll } from './guests.js';
import { count, ratio, seconds } from './measure.js';

const guests = count('BENCH_GUESTS', 200, 10);

async function timed(what: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const t0 = performance.now();
  const r = await runProgram(file, args, { env: { ...process.env, ...env }, timeoutMs: 1_800_000 });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return ms;
}

async function main(): Promise<void> {
  if (!existsSync(ORIGINAL_SCRIPT)) throw new Error(`${ORIGINAL_SCRIPT} is missing: run scripts/real-libvirt/setup.sh first`);
  const gd = await startGuestd();
  try {
    const work = mkdtempSync(path.join(gd.dir, 'bench-'));
    const names = Array.from({ length: guests }, (_, i) => `cp${process.pid}-${i + 1}`);
    const t0 = performance.now();
    await defineAndStart(gd.uri, work, names, 4, { agent: 'no', 'shutdown-seconds': 0.2 });
    await expectAll(gd.uri, names, 'running');
    console.log(`${guests} guests × 4 MiB on one guestd, set up in ${seconds(performance.now() - t0)}; ${new Date().toISOString()}`);

    const original = prepareOriginal(work);
    original.configure([`URIS='${gd.uri}'`, 'ON_BOOT=start', 'ON_SHUTDOWN=suspend']);
    const config = path.join(work, 'ours.conf');
    writeFileSync(config, `URIS='${gd.uri}'\nON_BOOT=start\nON_SHUTDOWN=suspend\n`);
    const env = { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: path.join(work, 'list'), LIBVIRT_GUESTS_LOCK_FILE: path.join(work, 'lock') };
    const variants = [
      { label: 'original (sh + virsh)', run: (cmd: string) => timed(`original ${cmd}`, 'sh', [original.script, cmd]) },
      { label: 'ours, native client', run: (cmd: string) => timed(`ours ${cmd}`, process.execPath, [repoPath('bin/run.js'), cmd, '--quiet', '--backend', 'native'], env) },
      { label: 'ours, through virsh', run: (cmd: string) => timed(`ours virsh ${cmd}`, process.execPath, [repoPath('bin/run.js'), cmd, '--quiet', '--backend', 'virsh'], env) },
    ];
    const rows: { label: string; stop: number; start: number }[] = [];
    for (const v of variants) {
      const stop = await v.run('stop');
      await expectAll(gd.uri, names, 'shut off');
      const start = await v.run('start');
      await expectAll(gd.uri, names, 'running');
      rows.push({ label: v.label, stop, start });
    }
    const [orig] = rows;
    for (const r of rows) {
      console.log(
        `${r.label.padEnd(22)} stop ${seconds(r.stop).padStart(8)} (${ratio(r.stop, orig!.stop)} × original)   start ${seconds(r.start).padStart(8)} (${ratio(r.start, orig!.start)} × original)`,
      );
    }
  } finally {
    await cleanupAllGuestd();
  }
}

await main();
