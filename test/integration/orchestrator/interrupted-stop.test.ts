// A stop killed while a guest is powering off, then `start`: the guest still runs when start looks, but it is going
// away. start must wait for it and start it again, not take it for running and lose it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StartResult } from '../../../src/orchestrator/result.js';
import { runGuests } from '../../helpers/cli.js';
import { cleanupAllGuestd, waitFor } from '../../helpers/guestd.js';
import { RUNNING, startFleet } from '../../helpers/fleet.js';
import { repoPath } from '../../helpers/repo.js';

after(cleanupAllGuestd);

test('a stop killed after asking a guest to shut down, then start: start waits for it and starts it again', async () => {
  const fleet = await startFleet({ slowoff: 2 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0, ON_SHUTDOWN: 'shutdown' }); // one guest after the other
    const [asked, untouched] = fleet.guests as [(typeof fleet.guests)[0], (typeof fleet.guests)[0]];
    const idBefore = (await fleet.conn.lookup(untouched.name)).id;
    const child = spawn(process.execPath, [repoPath('bin/run.js'), 'stop'], { env: { ...process.env, ...fleet.sb.env }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor('the first shutdown request', () => /shutdown requested/.test(fleet.guestLog(asked.name)));
    child.kill('SIGKILL');
    await exited;

    const run = await runGuests(['start', '--json'], fleet.sb.env);
    assert.equal(run.exitCode, 0, run.stderr);
    const result = StartResult.parse(JSON.parse(run.stdout));
    const outcome = Object.fromEntries(result.uris[0]!.guests.map((g) => [g.name, g.outcome]));
    assert.deepEqual(outcome, { [asked.name]: 'done', [untouched.name]: 'already-active' });
    assert.match(run.stderr, new RegExp(`Waiting for guest ${asked.name} to shut down`));
    assert.match(fleet.guestLog(asked.name), /powered off \(shutdown\)[\s\S]*booting/, 'powered off, then booted again');
    assert.deepEqual(await fleet.state(asked.name), { state: 'running', reason: RUNNING });
    // the guest the stop never reached was not waited for, nor restarted
    assert.doesNotMatch(fleet.guestLog(untouched.name), /shutdown requested/);
    assert.equal((await fleet.conn.lookup(untouched.name)).id, idBefore);
    assert.equal(existsSync(fleet.sb.listFile), false, 'every guest was handled');
    assert.equal(existsSync(`${fleet.sb.listFile}.shutdowns`), false, 'the record of asked shutdowns is gone with the list');
  } finally {
    await fleet.close();
  }
});
