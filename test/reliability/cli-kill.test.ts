// kill -9 of the libvirt-guests CLI at a random moment of a stop of 12 slow guests on a real guestd, then `start`
// (not killed): every guest must run again. Trials alternate ON_SHUTDOWN=suspend (PARALLEL_SUSPEND=2) and
// ON_SHUTDOWN=shutdown (PARALLEL_SHUTDOWN=3); the guests boot in 1 s, power off in 2 s and save at 32 MiB/s, so a
// stop lasts several seconds and the kill lands before, during or after any step. Each trial prints its kill time
// and the last line the stop printed; RELIABILITY_SEED replays a run.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { StartResult } from '../../src/orchestrator/result.js';
import { runGuests } from '../helpers/cli.js';
import { cleanupAllGuestd, sleep, waitFor } from '../helpers/guestd.js';
import { startFleet } from '../helpers/fleet.js';
import { log, random, report, trials } from '../helpers/reliability.js';
import { repoPath } from '../helpers/repo.js';

const SUITE = 'cli-kill';
const GUESTS = 12;
/** the kill lands within this many ms of the stop's start (a stop takes about 6 to 8 s here) */
const KILL_WINDOW_MS = 9000;
/** boot (1 s) + power-off (2 s) + 1 s: a guest still going off when start returned has gone off by then */
const SETTLE_MS = 4000;

/** whether the guest's current process was asked to shut down (its log since it last booted or was restored) */
function goingOff(guestLog: string): boolean {
  const began = Math.max(guestLog.lastIndexOf('booting with'), guestLog.lastIndexOf('restored from'));
  return guestLog.slice(began).includes('shutdown requested: powering off');
}

after(cleanupAllGuestd);

test(`kill -9 of the CLI at random moments of a stop of ${GUESTS} guests, then start: every guest runs again`, { timeout: 3_600_000 }, async () => {
  const rnd = random(SUITE);
  const count = trials(4, 30);
  const fleet = await startFleet({ sluggish: GUESTS }, 32);
  const outcomes: Record<string, number> = {};
  const startMs: number[] = [];
  let losses = 0;
  let tempFiles = 0;
  try {
    for (let trial = 1; trial <= count; trial++) {
      const action = trial % 2 === 1 ? 'suspend' : 'shutdown';
      fleet.configure({ CONNECT_RETRIES: 0, ON_SHUTDOWN: action, PARALLEL_SUSPEND: 2, PARALLEL_SHUTDOWN: 3, SHUTDOWN_TIMEOUT: 30 });
      const killAt = rnd.int(0, KILL_WINDOW_MS);
      log(SUITE, `trial ${trial}: ON_SHUTDOWN=${action}, kill at ${killAt} ms`);
      const child = spawn(process.execPath, [repoPath('bin/run.js'), 'stop'], {
        env: { ...process.env, ...fleet.sb.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const finished = await Promise.race([exited.then(() => true), sleep(killAt).then(() => false)]);
      if (!finished) child.kill('SIGKILL');
      await exited;
      const lastLine = stderr.trim().split('\n').pop() ?? '';
      log(SUITE, `trial ${trial}: ${finished ? 'the stop had finished' : 'killed'}, after "${lastLine}"`);

      const began = Date.now();
      const start = await runGuests(['start', '--json'], fleet.sb.env);
      startMs.push(Date.now() - began);
      assert.equal(start.exitCode, 0, `trial ${trial}: start failed:\n${start.stderr}`);
      for (const g of StartResult.parse(JSON.parse(start.stdout)).uris.flatMap((u) => u.guests)) {
        outcomes[g.outcome] = (outcomes[g.outcome] ?? 0) + 1;
      }
      // a guest taken for running while it was powering off goes off within its power-off time: wait until none is
      // between running and off, then look (such a guest is a loss either way)
      if (action === 'shutdown') {
        await waitFor('every guest running or off, none between', async () => {
          for (const g of fleet.guests) {
            const s = await fleet.state(g.name);
            if (s !== 'gone' && s.state === 'running' && goingOff(fleet.guestLog(g.name))) return false;
          }
          return true;
        }, SETTLE_MS).catch(() => undefined); // one still going off then is counted below all the same
      }
      const notRunning: string[] = [];
      for (const g of fleet.guests) {
        const s = await fleet.state(g.name);
        if (s === 'gone' || s.state !== 'running') notRunning.push(`${g.name} (${s === 'gone' ? 'gone' : s.state})`);
        else if (goingOff(fleet.guestLog(g.name))) notRunning.push(`${g.name} (shutting down)`);
      }
      losses += notRunning.length;
      assert.deepEqual(notRunning, [], `trial ${trial}: guests not running after start (kill at ${killAt} ms)`);
      assert.equal(existsSync(fleet.sb.listFile), false, `trial ${trial}: every guest was handled, the list is gone`);
    }
    const left = readdirSync(fleet.sb.dir).filter((f) => f.startsWith('libvirt-guests.list'));
    tempFiles = left.filter((f) => f.includes('.tmp-')).length; // a kill between a write and its rename: garbage, not a loss
    assert.deepEqual(left.filter((f) => !f.includes('.tmp-')), [], 'no list, run lock or shutdown record left behind');
  } finally {
    const sorted = [...startMs].sort((a, b) => a - b);
    report(SUITE, {
      trials: startMs.length,
      guests: GUESTS,
      losses,
      ...Object.fromEntries(Object.entries(outcomes).map(([k, v]) => [`start_${k}`, v])),
      start_p50_ms: sorted[Math.floor(sorted.length / 2)] ?? 0,
      start_max_ms: sorted[sorted.length - 1] ?? 0,
      temp_files_left: tempFiles,
    });
    await fleet.close();
  }
});
