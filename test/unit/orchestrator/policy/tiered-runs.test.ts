// Stop and start over tiers with exact times (fake clock, fake host): stop goes down the tiers (default tier first),
// start up them (default tier last) with readiness gating and start-delay; on-shutdown per guest, ignore, and the
// STOP_DEADLINE plan that gives each tier its share and keeps the reserve for the fallback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GuestsConfig } from '../../../../src/config/variables.js';
import { POLICY_NAMESPACE } from '../../../../src/orchestrator/policy/metadata.js';
import type { StartResult, StopResult } from '../../../../src/orchestrator/result.js';
import { startGuests } from '../../../../src/orchestrator/start.js';
import { stopGuests } from '../../../../src/orchestrator/stop.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { FakeHost, fakeServices, guestsConfig, type FakeGuestSpec, type FakeServices } from '../../../helpers/fake-host.js';
import { memoryFiles } from '../../../helpers/memory-files.js';

const LIST = '/var/lib/libvirt/libvirt-guests';
const policy = (attrs: string): Record<string, string> => ({ [POLICY_NAMESPACE]: `<lgt:policy xmlns:lgt="${POLICY_NAMESPACE}" ${attrs}/>` });

async function stop(guests: FakeGuestSpec[], config: Partial<GuestsConfig>, dryRun = false): Promise<{ host: FakeHost; services: FakeServices; result: StopResult }> {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  for (const g of guests) host.add(g);
  const services = fakeServices(clock, [host]);
  const cfg = guestsConfig([host], config);
  const request = { command: 'stop' as const, action: cfg.ON_SHUTDOWN, config: cfg, dryRun, listFile: LIST, lockFile: '/lock' };
  return { host, services, result: await clock.run(stopGuests(request, services)) };
}

async function start(guests: FakeGuestSpec[], config: Partial<GuestsConfig>): Promise<{ host: FakeHost; services: FakeServices; result: StartResult }> {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  const listed = guests.map((g) => host.add({ running: false, ...g }).uuid);
  const services = fakeServices(clock, [host], memoryFiles({ [LIST]: `${host.uri} ${listed.join(' ')}\n` }));
  const request = { config: guestsConfig([host], config), dryRun: false, listFile: LIST, lockFile: '/lock' };
  return { host, services, result: await clock.run(startGuests(request, services)) };
}

const byName = (r: StopResult | StartResult) => Object.fromEntries(r.uris.flatMap((u) => u.guests).map((g) => [g.name, g]));

test('stop goes down the tiers, the default tier first; each tier waits for the one before', async () => {
  const { host, result } = await stop(
    [
      { name: 'db', saveMs: 3000, metadata: policy('order="1"') },
      { name: 'web', saveMs: 2000, metadata: policy('order="3"') },
      { name: 'app', saveMs: 1000, metadata: policy('order="2"') },
      { name: 'misc', saveMs: 500 },
    ],
    {},
  );
  assert.deepEqual(host.logOf('save'), ['0 save misc', '500 save web', '2500 save app', '3500 save db']);
  assert.deepEqual(result.tiers.map((t) => [t.order, t.guests, t.usedMs]), [[null, 1, 500], [3, 1, 2000], [2, 1, 1000], [1, 1, 3000]]);
  const g = byName(result);
  assert.equal(g.db!.tier, 1);
  assert.equal(g.misc!.tier, null);
  assert.ok(g.web!.ended! <= g.app!.began! && g.app!.ended! <= g.db!.began!, 'the timestamps show the order');
  assert.equal(result.exit, 0);
});

test('per-guest actions in one tier; on-shutdown=ignore is neither touched nor listed', async () => {
  const { host, result, services } = await stop(
    [
      { name: 'keep', metadata: policy('on-shutdown="ignore"') },
      { name: 'off', shutdownMs: 1000, metadata: policy('on-shutdown="shutdown" shutdown-timeout="5"') },
      { name: 'kill', shutdownMs: null, metadata: policy('on-shutdown="destroy"') },
      { name: 'save' },
    ],
    {},
  );
  assert.deepEqual(host.logOf('keep'), [], 'not touched');
  assert.ok(!services.files.data.get(LIST)!.includes(host.guest('keep').uuid), 'not in the list file');
  const g = byName(result);
  assert.deepEqual([g.off!.action, g.off!.outcome], ['shutdown', 'done']);
  assert.deepEqual([g.kill!.action, g.kill!.outcome], ['destroy', 'done']);
  assert.deepEqual([g.save!.action, g.save!.outcome], ['suspend', 'done']);
  assert.deepEqual([g.keep!.outcome, g.keep!.action], ['skipped', 'none']);
  const running = services.events.find((e) => e.kind === 'running');
  assert.deepEqual(running && running.kind === 'running' && running.names, ['off', 'kill', 'save'], 'not in "Running guests"');
});

test('a bad attribute is reported with the guest and left out; the rest of its policy applies', async () => {
  const { result, services } = await stop([{ name: 'x', shutdownMs: 0, metadata: policy('order="2" on-shutdown="hibernate"') }, { name: 'y' }], {});
  const invalid = services.events.filter((e) => e.kind === 'policy-invalid');
  assert.equal(invalid.length, 1);
  assert.match(JSON.stringify(invalid[0]), /"name":"x".*on-shutdown=\\"hibernate\\" is not valid/);
  assert.deepEqual([byName(result).x!.tier, byName(result).x!.action], [2, 'suspend']);
});

test('STOP_DEADLINE over tiers: each tier its share, the reserve kept; every guest handled by the deadline', async () => {
  // 40 s: 4 s reserve. Default tier of stuck guests (shutdown-timeout 300): min(300, 36/3 = 12 s). Then tier 2 and 1.
  const { host, result } = await stop(
    [
      { name: 'stuck', shutdownMs: null, metadata: policy('on-shutdown="shutdown" shutdown-timeout="300"') },
      { name: 'slow', saveMs: 60_000, metadata: policy('order="2"') },
      { name: 'db', saveMs: 1000, metadata: policy('order="1"') },
    ],
    { STOP_DEADLINE: 40, FALLBACK: true },
  );
  assert.equal(result.deadlineReserveMs, 4000);
  assert.deepEqual(result.tiers.map((t) => [t.order, t.budgetMs]), [[null, 12_000], [2, 12_000], [1, 12_000]]);
  assert.equal(host.when('destroyed', 'stuck'), 12_000, 'the stuck guest is powered off at the end of its tier\'s budget');
  assert.equal(host.when('save-aborted', 'slow'), 24_000, 'the endless save is aborted at the end of its tier\'s budget');
  assert.equal(host.when('save', 'db'), 24_000);
  const g = byName(result);
  assert.deepEqual([g.stuck!.outcome, g.slow!.outcome, g.db!.outcome], ['done', 'done', 'done']);
  assert.ok(result.durationMs <= 40_000, `ended by the deadline (${result.durationMs} ms)`);
});

test('a dry run prints the plan with each tier\'s budget', async () => {
  const { result, host } = await stop([{ name: 'a', metadata: policy('order="1"') }, { name: 'b' }], { STOP_DEADLINE: 100 }, true);
  assert.deepEqual(result.tiers, [
    { order: null, guests: 1, budgetMs: 45_000 },
    { order: 1, guests: 1, budgetMs: 45_000 },
  ]);
  assert.equal(result.deadlineReserveMs, 10_000);
  assert.deepEqual(host.logOf('save'), []);
});

test('start goes up the tiers, the default tier last, each tier gated by ready=agent and start-delay', async () => {
  const { host, result } = await start(
    [
      { name: 'misc' },
      { name: 'web', metadata: policy('order="2"') },
      { name: 'db', agentMs: 3000, metadata: policy('order="1" ready="agent" start-delay="2"') },
    ],
    {},
  );
  // db at 0; its agent answers at 3 s (polled every 250 ms), + 2 s start-delay: web at 5 s; misc after web
  assert.deepEqual(host.logOf('boot'), ['0 boot db', '5000 boot web', '5000 boot misc']);
  assert.deepEqual(result.tiers.map((t) => t.order), [1, 2, null]);
  const g = byName(result);
  assert.equal(g.db!.ready, 'agent');
  assert.ok(g.db!.ended! <= g.web!.began!);
});

test('ready-timeout passes: reported, not fatal, the next tier goes on', async () => {
  const { host, result, services } = await start(
    [
      { name: 'db', agent: false, metadata: policy('order="1" ready="agent" ready-timeout="10"') },
      { name: 'web', metadata: policy('order="2"') },
    ],
    {},
  );
  assert.deepEqual(host.logOf('boot'), ['0 boot db', '10000 boot web']);
  assert.equal(byName(result).db!.ready, 'timeout');
  assert.equal(byName(result).db!.outcome, 'done');
  assert.ok(services.events.some((e) => e.kind === 'not-ready'));
  assert.equal(result.exit, 0);
});

test('on-boot=ignore: left off and dropped from the list', async () => {
  const { host, result, services } = await start([{ name: 'lab', metadata: policy('on-boot="ignore"') }, { name: 'web' }], {});
  assert.deepEqual(host.logOf('boot'), ['0 boot web']);
  assert.equal(byName(result).lab!.outcome, 'skipped');
  assert.equal(services.files.data.get(LIST), undefined);
});

test('without any policy, start begins in list-file order and stop saves in id order', async () => {
  const { host } = await start([{ name: 'b' }, { name: 'a' }, { name: 'c' }], { PARALLEL_START: 1 });
  assert.deepEqual(host.logOf('boot'), ['0 boot b', '0 boot a', '0 boot c']);
});

test('the shutdown command shuts down the guests whose policy says suspend; destroy and ignore stay theirs', async () => {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  host.add({ name: 's', metadata: policy('on-shutdown="suspend"') });
  host.add({ name: 'd', metadata: policy('on-shutdown="destroy"') });
  host.add({ name: 'i', metadata: policy('on-shutdown="ignore"') });
  const services = fakeServices(clock, [host]);
  const config = guestsConfig([host]);
  const result = await clock.run(stopGuests({ command: 'shutdown', action: 'shutdown', config, dryRun: false, listFile: LIST, lockFile: '/lock' }, services));
  const g = byName(result);
  assert.deepEqual([g.s!.action, g.d!.action, g.i!.outcome], ['shutdown', 'destroy', 'skipped']);
  assert.deepEqual(host.logOf('save'), []);
});

test('stop with ON_SHUTDOWN=shutdown saves a guest whose own policy says suspend (ON_SHUTDOWN is only the default)', async () => {
  const { host, result } = await stop([{ name: 's', metadata: policy('on-shutdown="suspend"') }, { name: 'p' }], { ON_SHUTDOWN: 'shutdown' });
  const g = byName(result);
  assert.deepEqual([g.s!.action, g.p!.action], ['suspend', 'shutdown']);
  assert.deepEqual(host.logOf('save'), ['0 save s']);
});

test('a guest gone between the list and its policy read costs only itself: the others keep their policies, stop and start', async () => {
  const stopped = await stop(
    [
      { name: 'fleeting', persistent: false, vanishesOnMetadataRead: true },
      { name: 'db', metadata: policy('order="1" on-shutdown="shutdown"') },
    ],
    { ON_SHUTDOWN: 'suspend', PERSISTENT_ONLY: 'false' },
  );
  assert.equal(stopped.result.uris[0]!.reachable, true);
  assert.deepEqual([byName(stopped.result).db!.action, byName(stopped.result).db!.outcome, byName(stopped.result).db!.tier], ['shutdown', 'done', 1]);

  const started = await start(
    [
      { name: 'fleeting', vanishesOnMetadataRead: true },
      { name: 'web', metadata: policy('on-boot="ignore"') },
    ],
    {},
  );
  assert.deepEqual(started.host.logOf('boot'), [], 'web keeps on-boot=ignore');
  assert.equal(byName(started.result).web!.outcome, 'skipped');
});
