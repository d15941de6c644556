// The per-guest policy on real libvirtd + QEMU guests: set through our command (libvirt's metadata API, read back
// with virsh), three tiers that stop descending and start ascending (ready=running, start-delay), shown by the JSON
// timestamps; and without any policy, the order of the real libvirt-guests.sh (virsh's, by id) in the list file and
// the messages. stop acts on every running guest of the URI, so the tiers and the order need a libvirtd with no
// guests but this test's: with another's guests running (a shared machine) they are skipped and say why; in CI
// they always run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { POLICY_NAMESPACE } from '../../src/orchestrator/policy/metadata.js';
import { PolicyShowResult, StartResult, StopResult } from '../../src/orchestrator/result.js';
import { runGuests } from '../helpers/cli.js';
import { ORIGINAL_SCRIPT, type OriginalScript } from '../helpers/original-script.js';
import { assertValidResult } from '../helpers/result-schema.js';
import { URI, bootAndWait, defineGuest, missingPrerequisite, removeGuest, runningGuests, sideBySide, virsh } from './real-libvirt.js';

const missing = (await missingPrerequisite()) ?? (existsSync(ORIGINAL_SCRIPT) ? null : `${ORIGINAL_SCRIPT} is not installed`);
if (missing && process.env.CI === 'true') throw new Error(`prerequisite missing in CI: ${missing}`);

const PREFIX = `lgt-pol${process.pid}`;
const NAMES = ['a', 'b', 'c'].map((s) => `${PREFIX}-${s}`);
const [A, B, C] = NAMES as [string, string, string];

/** why stop cannot run here: running guests that are not this test's would be acted on */
async function othersRunning(): Promise<string | false> {
  const others = (await runningGuests()).filter((n) => !n.startsWith(PREFIX));
  if (others.length === 0) return false;
  const why = `guests of others run on ${URI} (${others.join(', ')}): a stop would act on them`;
  if (process.env.CI === 'true') throw new Error(`prerequisite missing in CI: ${why}`);
  console.log(`# skipped: ${why}`);
  return why;
}

const byName = (r: StopResult | StartResult) => Object.fromEntries(r.uris.flatMap((u) => u.guests).map((g) => [g.name, g]));
const ms = (iso: string | undefined): number => Date.parse(iso!);

describe('per-guest policy on real libvirtd', { skip: missing ?? false }, () => {
  let dir: string;
  let env: Record<string, string>;
  let original: OriginalScript;

  before(async () => {
    ({ dir, original, env } = sideBySide('lgt-policy-'));
    for (const name of NAMES) await defineGuest('acpi', name, 128, 0);
  });

  after(async () => {
    for (const name of NAMES) await removeGuest(name);
    rmSync(dir, { recursive: true, force: true });
  });

  it('policy set through our command: libvirt stores it in the domain metadata; policy show explains it', async () => {
    for (const [name, flags] of [
      [A, ['--order', '1', '--ready', 'running', '--start-delay', '2']],
      [B, ['--order', '2', '--on-shutdown', 'shutdown', '--shutdown-timeout', '60']],
    ] as const) {
      const r = await runGuests(['policy', 'set', name, ...flags], env);
      assert.equal(r.exitCode, 0, r.stderr);
    }
    const xml = await virsh('metadata', A, '--uri', POLICY_NAMESPACE, '--config');
    assert.match(xml, /<policy order="1" start-delay="2" ready="running"\/>/);
    assert.match(await virsh('dumpxml', A, '--inactive'), /<lgt:policy xmlns:lgt="https:\/\/libvirt-guests-ts.invalid\/policy\/1" order="1"/);
    const show = await runGuests(['policy', 'show', A, B, C, '--json'], env);
    assert.equal(show.exitCode, 0, show.stderr);
    const result = PolicyShowResult.parse(JSON.parse(show.stdout));
    assertValidResult(result);
    const g = Object.fromEntries(result.uris[0]!.guests.map((x) => [x.name, x]));
    assert.deepEqual([g[A]!.tier, g[B]!.tier, g[C]!.tier], [1, 2, null]);
    assert.deepEqual(g[B]!.policy['on-shutdown'], { value: 'shutdown', source: 'metadata' });
    assert.deepEqual(g[C]!.policy['on-shutdown'], { value: 'suspend', source: 'config', variable: 'ON_SHUTDOWN' });
  });

  it('three tiers: stop descending, start ascending after ready=running and start-delay, by the JSON timestamps', async (t) => {
    if (await othersRunning()) return t.skip('guests of others are running');
    for (const name of NAMES) await bootAndWait(name);
    if (await othersRunning()) return t.skip('guests of others are running'); // they may have come while ours booted
    const stopRun = await runGuests(['stop', '--json'], env);
    assert.equal(stopRun.exitCode, 0, stopRun.stderr);
    const stop = StopResult.parse(JSON.parse(stopRun.stdout));
    assertValidResult(stop);
    assert.deepEqual(stop.uris[0]!.guests.map((g) => g.name).sort(), [...NAMES].sort(), 'only this test\'s guests');
    assert.deepEqual(stop.tiers.map((x) => [x.order, x.guests]), [[null, 1], [2, 1], [1, 1]]);
    const s = byName(stop);
    assert.deepEqual([s[A]!.action, s[B]!.action, s[C]!.action], ['suspend', 'shutdown', 'suspend']);
    assert.ok(ms(s[C]!.ended) <= ms(s[B]!.began) && ms(s[B]!.ended) <= ms(s[A]!.began), JSON.stringify(s));

    const startRun = await runGuests(['start', '--json'], env);
    assert.equal(startRun.exitCode, 0, startRun.stderr);
    const start = StartResult.parse(JSON.parse(startRun.stdout));
    assertValidResult(start);
    assert.deepEqual(start.tiers.map((x) => x.order), [1, 2, null]);
    const b = byName(start);
    assert.equal(b[A]!.ready, 'running');
    assert.ok(ms(b[B]!.began) - ms(b[A]!.ended) >= 1900, 'tier 2 waited for start-delay=2 after tier 1 was ready');
    assert.ok(ms(b[B]!.ended) <= ms(b[C]!.began), 'the default tier last');
    for (const name of NAMES) assert.match(await virsh('domstate', name), /running/);
  });

  it("without any policy, our order is the original's: virsh's (by id) in the list file and the messages", async (t) => {
    if (await othersRunning()) return t.skip('guests of others are running');
    for (const name of NAMES) {
      const unset = await runGuests(['policy', 'unset', name], env);
      assert.equal(unset.exitCode, 0, unset.stderr);
    }
    // booted in the reverse of their names' order: ids, hash order and names all differ
    for (const name of NAMES) await virsh('destroy', name).catch(() => undefined);
    for (const name of [...NAMES].reverse()) await bootAndWait(name);
    const runningLine = (text: string): string => text.split('\n').find((l) => l.startsWith(`Running guests on ${URI} URI: `)) ?? '';

    if (await othersRunning()) return t.skip('guests of others are running');
    const theirs = await original.run('stop');
    assert.equal(theirs.code, 0, theirs.stderr);
    const theirList = readFileSync(original.listFile, 'utf8');
    const theirLine = runningLine(theirs.stdout);
    assert.equal(theirLine, `Running guests on ${URI} URI: ${[C, B, A].join(', ')}`);
    const theirStart = await original.run('start');
    assert.equal(theirStart.code, 0, theirStart.stderr);
    const theirResumes = theirStart.stdout.split('\n').filter((l) => /^Resuming guest \S+: done$/.test(l));

    const ours = await runGuests(['stop'], env);
    assert.equal(ours.exitCode, 0, ours.stderr);
    assert.equal(runningLine(ours.stderr), theirLine, 'the same "Running guests" line');
    assert.equal(readFileSync(original.listFile, 'utf8'), theirList, 'the same list file, in the same order');
    const ourStart = await runGuests(['start', '--json'], env);
    assert.equal(ourStart.exitCode, 0, ourStart.stderr);
    const started = StartResult.parse(JSON.parse(ourStart.stdout)).uris[0]!.guests;
    const ourOrder = [...started].sort((x, y) => ms(x.began) - ms(y.began)).map((g) => `Resuming guest ${g.name}: done`);
    assert.deepEqual(ourOrder, theirResumes, 'started in list-file order, as the original');
  });
});
