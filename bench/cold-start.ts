// Issue 12, row 3: cold start of `libvirt-guests status`, `libvirt-guests --help` and `guestctl list` next to
// `node -e 0` (and the original libvirt-guests.sh's status), all timed in turn in one run; median of BENCH_RUNS.
//   npm run bench:cold-start          (after npm run build; BENCH_RUNS=15 by default, BENCH_QUICK=1 for 5)
// Target (issue 12): status ≤ 1.5 × node -e 0.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cleanupAllGuestd, startGuestd } from '../test/helpers/guestd.js';
import { ORIGINAL_SCRIPT, prepareOriginal } from '../test/helpers/original-script.js';
import { repoPath } from '../test/helpers/repo.js';
import { count, median, pairedRatio, ratio, timeInTurn, type Command } from './measure.js';

const runs = count('BENCH_RUNS', 15, 5);
const work = mkdtempSync(path.join(tmpdir(), 'lgt-bench-cold-'));
try {
  const config = path.join(work, 'libvirt-guests.conf');
  writeFileSync(config, 'ON_SHUTDOWN=suspend\n');
  // every path in the temp dir, the profile fixed: the same work on any machine
  const env = { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: path.join(work, 'list'), LIBVIRT_GUESTS_LOCK_FILE: path.join(work, 'lock'), LIBVIRT_GUESTS_PROFILE: 'upstream' };
  const gd = await startGuestd();
  const node = process.execPath;
  const commands: Command[] = [
    { label: 'node -e 0', argv: [node, '-e', '0'] },
    { label: 'libvirt-guests status', argv: [node, repoPath('bin/run.js'), 'status'], env, okExits: [3] },
    { label: 'libvirt-guests status --json', argv: [node, repoPath('bin/run.js'), 'status', '--json'], env, okExits: [3] },
    { label: 'libvirt-guests --help', argv: [node, repoPath('bin/run.js'), '--help'], env },
    { label: 'libvirt-guests reload', argv: [node, repoPath('bin/run.js'), 'reload'], env },
    { label: 'guestctl list (guestd)', argv: [node, repoPath('bin/guestctl.js'), '-c', gd.uri, 'list'] },
  ];
  if (existsSync(ORIGINAL_SCRIPT)) {
    const original = prepareOriginal(work);
    original.configure(['ON_SHUTDOWN=suspend']);
    commands.push({ label: 'original libvirt-guests.sh status', argv: ['sh', original.script, 'status'], okExits: [3] });
  } else console.log(`(no ${ORIGINAL_SCRIPT}: the original's row is left out; scripts/real-libvirt/setup.sh installs it)`);

  const times = timeInTurn(commands, runs);
  const wall = times.map((t) => t.map((x) => x.ms));
  const cpu = times.map((t) => t.map((x) => x.cpuMs));
  console.log(`cold start, ${runs} runs of each in turn, ${new Date().toISOString()}; × node -e 0 = median of the run-by-run ratios`);
  for (const [i, c] of commands.entries()) {
    const w = pairedRatio(wall[i]!, wall[0]!);
    const target = c.label === 'libvirt-guests status' ? `  (target ≤ 1.50 wall: ${w <= 1.5 ? 'met' : 'NOT met'})` : '';
    console.log(
      `${c.label.padEnd(34)} wall ${median(wall[i]!).toFixed(0).padStart(4)} ms × ${ratio(w, 1)}   CPU ${median(cpu[i]!).toFixed(0).padStart(4)} ms × ${ratio(pairedRatio(cpu[i]!, cpu[0]!), 1)}${target}`,
    );
  }
} finally {
  await cleanupAllGuestd();
  rmSync(work, { recursive: true, force: true });
}
