// The daemon goes away while a managed save runs (the host's shutdown stopping it, a crash): the save may have
// completed all the same, so the stop asks again on a new connection before it reports, as it found things.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { openConnection } from '../../../src/connect/index.js';
import { StopResult } from '../../../src/orchestrator/result.js';
import { cleanupAllGuestd, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { SHUTOFF_SAVED, startFleet, type Fleet } from '../../helpers/fleet.js';
import { repoPath } from '../../helpers/repo.js';

after(cleanupAllGuestd);

async function guestExited(fleet: Fleet): Promise<void> {
  await waitFor('the guest to finish its save and exit', () => fleet.guestd.guestPids().length === 0, 30_000).catch((err: Error) => {
    const left = fleet.guestd.guestPids().map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`);
    throw new Error(`${err.message}; still running: ${left.join('; ')}`);
  });
}

/**
 * Runs `stop --json`; stops guestd once the save is under way, waits until the guest's process has exited, then
 * calls `whenGone` (which may bring a daemon back) and waits for the stop.
 */
async function stopWhileDaemonGoes(
  fleet: Fleet,
  whenGone: () => Promise<unknown> = async () => undefined,
): Promise<{ exitCode: number; result: StopResult; stderr: string }> {
  const run = execa(process.execPath, [repoPath('bin/run.js'), 'stop', '--json'], { env: { NO_COLOR: '1', ...fleet.sb.env }, reject: false });
  let stderr = '';
  run.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor('the save to be under way', () => /Suspending slowsave1: [\d.]+ MiB of/.test(stderr), 30_000);
  await fleet.guestd.stop();
  await guestExited(fleet);
  await whenGone();
  const done = await run;
  return { exitCode: done.exitCode ?? -1, result: StopResult.parse(JSON.parse(done.stdout)), stderr };
}

test('the daemon stops mid-save and comes back: the guest was saved, and the stop says so (exit 0)', async () => {
  const fleet = await startFleet({ slowsave: 1 }, 64); // 2 s to save
  try {
    fleet.configure({ CONNECT_RETRIES: 60, RETRIES_SLEEP: 1 });
    // guestd comes back (socket activation, Restart=on-failure) once the save is complete
    let again: GuestdInstance | undefined;
    const { exitCode, result, stderr } = await stopWhileDaemonGoes(fleet, async () => (again = await startGuestd({ dir: fleet.guestd.dir })));
    assert.equal(exitCode, 0, stderr);
    const g = result.uris[0]!.guests[0]!;
    assert.deepEqual([g.name, g.outcome, g.error], ['slowsave1', 'done', undefined]);
    assert.match(stderr, /Lost the connection to \S+ while suspending slowsave1 \(.+\); asked again: the guest is off with its managed save image: saved/);
    const conn = await openConnection(again!.uri);
    try {
      assert.deepEqual(await conn.state(await conn.lookup('slowsave1')), { state: 'shutoff', reason: SHUTOFF_SAVED });
    } finally {
      await conn.close();
    }
  } finally {
    await fleet.close();
  }
});

test('the daemon stops mid-save for good: the outcome is reported as unknown, not as a plain failure', async () => {
  const fleet = await startFleet({ slowsave: 1 }, 64);
  try {
    fleet.configure({ CONNECT_RETRIES: 1, RETRIES_SLEEP: 0 });
    const { exitCode, result, stderr } = await stopWhileDaemonGoes(fleet);
    assert.equal(exitCode, 1);
    const g = result.uris[0]!.guests[0]!;
    assert.equal(g.outcome, 'failed');
    assert.match(g.error ?? '', /the daemon could not be asked again \(.+\): whether the save completed is unknown/);
    assert.match(stderr, /Lost the connection to \S+ while suspending slowsave1/);
  } finally {
    await fleet.close();
  }
});
