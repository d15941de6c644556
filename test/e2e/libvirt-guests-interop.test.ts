// Our libvirt-guests and the real libvirt-guests.sh on the same real libvirtd + QEMU guests: a list written by the
// original's `stop` is restored by our `start`, and a list written by our `stop` (native connection, suspending 4
// real guests) is restored by the original's `start`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { StartResult, StopResult } from '../../src/orchestrator/result.js';
import { runGuests } from '../helpers/cli.js';
import { ORIGINAL_SCRIPT, type OriginalScript } from '../helpers/original-script.js';
import { assertValidResult } from '../helpers/result-schema.js';
import { URI, guestsClean, guestsUp, missingPrerequisite, sideBySide, virsh } from './real-libvirt.js';

const missing = (await missingPrerequisite()) ?? (existsSync(ORIGINAL_SCRIPT) ? null : `${ORIGINAL_SCRIPT} is not installed`);
if (missing && process.env.CI === 'true') throw new Error(`prerequisite missing in CI: ${missing}`);

const NAMES = ['lgt-stuck-1', 'lgt-stuck-2', 'lgt-stuck-3', 'lgt-stuck-4'];

async function domstate(name: string): Promise<string> {
  return (await virsh('domstate', '--reason', name)).trim();
}

describe('interoperation with the real libvirt-guests.sh on real libvirtd', { skip: missing ?? false }, () => {
  let dir: string;
  let original: OriginalScript;
  let env: Record<string, string>;

  before(async () => {
    ({ dir, original, env } = sideBySide('lgt-interop-'));
    await guestsUp('stuck', 4);
  });

  after(async () => {
    await guestsClean();
    rmSync(dir, { recursive: true, force: true });
  });

  it("restores with our start what the original's stop saved", async () => {
    const stop = await original.run('stop');
    assert.equal(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
    const list = readFileSync(original.listFile, 'utf8');
    assert.ok(list.startsWith(`${URI} `), list);
    for (const name of NAMES) assert.equal(await domstate(name), 'shut off (saved)');

    const start = await runGuests(['start', '--json'], env);
    assert.equal(start.exitCode, 0, start.stderr);
    const result = StartResult.parse(JSON.parse(start.stdout));
    assertValidResult(result);
    assert.deepEqual(result.uris.flatMap((u) => u.guests.map((g) => g.outcome)), ['done', 'done', 'done', 'done']);
    for (const name of NAMES) assert.equal(await domstate(name), 'running (restored)');
    assert.equal(existsSync(original.listFile), false);
  });

  it("suspends 4 real guests through the native connection; the original's start restores them", async () => {
    const stop = await runGuests(['stop', '--json'], env);
    assert.equal(stop.exitCode, 0, stop.stderr);
    const result = StopResult.parse(JSON.parse(stop.stdout));
    assertValidResult(result);
    assert.equal(result.uris[0]!.backend, 'native');
    assert.deepEqual(
      result.uris[0]!.guests.map((g) => [g.name, g.outcome]).sort(),
      NAMES.map((n) => [n, 'done']),
    );
    for (const name of NAMES) assert.equal(await domstate(name), 'shut off (saved)');
    const uuids = readFileSync(original.listFile, 'utf8').trim().split(/\s+/);
    assert.equal(uuids[0], URI);
    assert.equal(uuids.length, 5);

    const start = await original.run('start');
    assert.equal(start.code, 0, `${start.stdout}\n${start.stderr}`);
    for (const name of NAMES) assert.match(start.stdout, new RegExp(`Resuming guest ${name}: done`));
    for (const name of NAMES) assert.equal(await domstate(name), 'running (restored)');
  });
});
