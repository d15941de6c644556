// The libvirt-guests contract over a real guestd with 8 guests (2 stuck, 2 slow to shut down, 2 with agent,
// 2 transient): sequential/parallel × suspend/shutdown × ON_BOOT start/ignore × PERSISTENT_ONLY default/true/false.
// The exact schedule of a shutdown (which guest is asked when, what the budget's expiry does) is pinned over a fake
// clock in test/unit/orchestrator/shutdown.test.ts; here real guests follow it at the machine's own pace.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { StartResult, StopResult, type GuestResult } from '../../../src/orchestrator/result.js';
import { runGuests } from '../../helpers/cli.js';
import { cleanupAllGuestd, waitFor } from '../../helpers/guestd.js';
import { assertValidResult } from '../../helpers/result-schema.js';
import { RUNNING_RESTORED, SHUTOFF_SAVED, startFleet, type Fleet, type FleetGuest } from '../../helpers/fleet.js';

after(cleanupAllGuestd);

function parseJson(run: { stdout: string; stderr: string; exitCode: number }): unknown {
  let value: unknown;
  try {
    value = JSON.parse(run.stdout);
  } catch {
    throw new Error(`no JSON on stdout (exit ${run.exitCode}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
  assertValidResult(value); // the checked-in JSON schema
  return value;
}

type Action = 'suspend' | 'shutdown';
type PersistentOnly = 'default' | 'true' | 'false';

const persistentOnly = (action: Action, po: PersistentOnly): boolean => po === 'true' || (po === 'default' && action === 'suspend');

/** what stop must leave behind for one guest */
function afterStop(g: FleetGuest, action: Action, po: PersistentOnly): 'saved' | 'off' | 'running' | 'gone' {
  if (g.kind === 'transient') {
    if (persistentOnly(action, po)) return 'running';
    return action === 'suspend' ? 'running' /* a transient guest cannot be saved */ : 'gone';
  }
  if (action === 'suspend') return 'saved';
  return g.kind === 'stuck' ? 'running' : 'off';
}

/**
 * A guest that honours shutdown is off when the stop returns, except in a parallel shutdown: the guests queued
 * behind the slow ones get a slot late on a loaded machine, and those still queued when the SHUTDOWN_TIMEOUT budget
 * expires are asked then and not waited for (their outcome is `timeout`). Such a guest must have been asked, and
 * then goes off by itself: wait for that.
 */
async function shutDownLate(fleet: Fleet, g: FleetGuest, result: GuestResult | undefined, parallel: boolean): Promise<void> {
  assert.ok(result, `${g.name}: no result`);
  if (result.outcome === 'done') return;
  const late = parallel && (g.kind === 'agent' || g.kind === 'transient') && result.outcome === 'timeout';
  assert.ok(late, `${g.name}: ${result.outcome} (${result.error ?? ''})`);
  assert.match(result.error ?? '', /still queued when the shutdown timeout expired|not off within 3 s/);
  assert.match(fleet.guestLog(g.name), /shutdown requested: powering off/, `${g.name} was asked`);
  await waitFor(`${g.name} to power off after the stop`, async () => {
    const s = await fleet.state(g.name);
    return s === 'gone' || s.state === 'shutoff';
  });
}

for (const parallel of [false, true]) {
  for (const action of ['suspend', 'shutdown'] as const) {
    for (const onBoot of ['start', 'ignore'] as const) {
      for (const po of ['default', 'true', 'false'] as const) {
        const name = `${parallel ? 'parallel' : 'sequential'} ${action}, ON_BOOT=${onBoot}, PERSISTENT_ONLY=${po}`;
        describe(name, () => {
          test('stop then start end in the expected guest states and exit codes', async () => {
            const fleet = await startFleet({ stuck: 2, slow: 2, agent: 2, transient: 2 });
            try {
              fleet.configure({
                ON_SHUTDOWN: action,
                ON_BOOT: onBoot,
                PERSISTENT_ONLY: po,
                SHUTDOWN_TIMEOUT: 3,
                PARALLEL_SHUTDOWN: parallel ? 4 : 0,
                PARALLEL_SUSPEND: parallel ? 4 : 1,
                CONNECT_RETRIES: 0,
              });
              const stop = await runGuests(['stop', '--json'], fleet.sb.env);
              const stopResult = StopResult.parse(parseJson(stop));
              const transientFails = action === 'suspend' && !persistentOnly(action, po);
              const expectedStopExit = action === 'shutdown' || transientFails ? 1 : 0;
              assert.equal(stop.exitCode, expectedStopExit, stop.stderr);
              assert.equal(stopResult.exit, expectedStopExit);
              assert.match(stop.stderr, /Running guests on .* URI: /);

              const outcomes = new Map(stopResult.uris.flatMap((u) => u.guests.map((r) => [r.name, r] as const)));
              for (const g of fleet.guests) {
                const want = afterStop(g, action, po);
                const label = `${g.name} after stop`;
                if (want === 'off' || want === 'gone') await shutDownLate(fleet, g, outcomes.get(g.name), parallel);
                const got = await fleet.state(g.name);
                if (want === 'gone') assert.equal(got, 'gone', label);
                else if (want === 'running') assert.equal(got !== 'gone' && got.state, 'running', label);
                else if (want === 'off') assert.equal(got !== 'gone' && got.state, 'shutoff', label);
                else {
                  assert.deepEqual(got, { state: 'shutoff', reason: SHUTOFF_SAVED }, label);
                  assert.equal(await fleet.hasManagedSave(g.name), true, label);
                }
              }
              if (action === 'shutdown') {
                for (const g of fleet.guests.filter((x) => x.kind === 'stuck')) {
                  assert.match(fleet.guestLog(g.name), /shutdown requested: ignored/, `${g.name} was asked`);
                }
              }
              // the list holds the persistent guests (transient ones cannot come back)
              const persistent = fleet.guests.filter((g) => g.kind !== 'transient');
              const list = fleet.listFile();
              assert.ok(list !== null, 'list file written');
              assert.deepEqual(list.trim().split(/\s+/).slice(1).sort(), persistent.map((g) => g.uuid).sort());

              const start = await runGuests(['start', '--json'], fleet.sb.env);
              const startResult = StartResult.parse(parseJson(start));
              assert.equal(start.exitCode, 0, start.stderr);
              assert.equal(startResult.exit, 0);
              assert.equal(fleet.listFile(), null, 'list file removed after start');
              assert.ok(existsSync(fleet.sb.lockFile), 'lock file touched');
              for (const g of persistent) {
                const got = await fleet.state(g.name);
                const stopped = afterStop(g, action, po);
                const label = `${g.name} after start`;
                if (onBoot === 'ignore') {
                  if (stopped === 'saved') assert.deepEqual(got, { state: 'shutoff', reason: SHUTOFF_SAVED }, label);
                  else assert.equal(got !== 'gone' && got.state, stopped === 'off' ? 'shutoff' : 'running', label);
                } else {
                  assert.equal(got !== 'gone' && got.state, 'running', label);
                  if (stopped === 'saved') assert.equal(got !== 'gone' && got.reason, RUNNING_RESTORED, `${label}: restored`);
                }
              }
              if (onBoot === 'start') {
                const outcomes = startResult.uris.flatMap((u) => u.guests.map((g) => `${g.name}:${g.outcome}`)).sort();
                const expected = persistent
                  .map((g) => `${g.name}:${afterStop(g, action, po) === 'running' ? 'already-active' : 'done'}`)
                  .sort();
                assert.deepEqual(outcomes, expected);
              } else {
                assert.match(start.stderr, /libvirt-guests is configured not to start any guests on boot/);
              }
            } finally {
              await fleet.close();
            }
          });
        });
      }
    }
  }
}
