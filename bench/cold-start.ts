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
  const base = times[0]!;
  console.log(`cold start, ${runs} runs of each in turn, ${new Date().toISOString()}; ratio = median of run-by-run ratios to node -e 0`);
  for (const [i, c] of commands.entries()) {
    const t = times[i]!;
    const target = c.label === 'libvirt-guests status' ? `  (target ≤ 1.50: ${pairedRatio(t, base) <= 1.5 ? 'met' : 'NOT met'})` : '';
    console.log(`${c.label.padEnd(36)} median ${median(t).toFixed(0).padStart(4)} ms  × node -e 0 = ${i === 0 ? '1.00' : ratio(pairedRatio(t, base), 1)}${target}`);
  }
} finally {
  await cleanupAllGuestd();
  rmSync(work, { recursive: true, force: true });
}
