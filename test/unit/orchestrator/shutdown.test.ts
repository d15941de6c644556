// Shutting guests down, timed by a fake clock over a fake host: one after the other with SHUTDOWN_TIMEOUT each, or
// PARALLEL_SHUTDOWN at once within one SHUTDOWN_TIMEOUT budget per URI, the budget's expiry, the fallback to
// destroy. Every time below is exact, in ms of fake time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GuestsConfig } from '../../../src/config/variables.js';
import type { GuestResult, StopResult } from '../../../src/orchestrator/result.js';
import { stopGuests } from '../../../src/orchestrator/stop.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeHost, fakeServices, guestsConfig, type FakeGuestSpec, type FakeServices } from '../../helpers/fake-host.js';

interface Run {
  host: FakeHost;
  services: FakeServices;
  result: StopResult;
  /** outcome per guest name */
  outcomes: Record<string, string>;
  byName(name: string): GuestResult;
}

async function shutdown(guests: FakeGuestSpec[], config: Partial<GuestsConfig>, tune: (host: FakeHost) => void = () => undefined): Promise<Run> {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  for (const g of guests) host.add(g);
  tune(host);
  const services = fakeServices(clock, [host]);
  const request = {
    command: 'stop' as const,
    action: 'shutdown' as const,
    config: guestsConfig([host], { ON_SHUTDOWN: 'shutdown', ...config }),
    dryRun: false,
    listFile: '/var/lib/libvirt/libvirt-guests',
    lockFile: '/var/lock/subsys/libvirt-guests',
  };
  const result = await clock.run(stopGuests(request, services));
  const all = result.uris.flatMap((u) => u.guests);
  return {
    host,
    services,
    result,
    outcomes: Object.fromEntries(all.map((g) => [g.name, g.outcome])),
    byName: (name) => all.find((g) => g.name === name)!,
  };
}

/** the matrix test's fleet (test/integration/orchestrator/matrix.test.ts), in the order guestd lists it */
const matrixFleet = (slowMs = 2000): FakeGuestSpec[] => [
  { name: 'stuck1', shutdownMs: null },
  { name: 'stuck2', shutdownMs: null },
  { name: 'slow1', shutdownMs: slowMs },
  { name: 'slow2', shutdownMs: slowMs },
  { name: 'agent1', shutdownMs: 200 },
  { name: 'agent2', shutdownMs: 200 },
  { name: 'transient1', shutdownMs: 200, persistent: false },
  { name: 'transient2', shutdownMs: 200, persistent: false },
];

const MATRIX: Partial<GuestsConfig> = { PARALLEL_SHUTDOWN: 4, SHUTDOWN_TIMEOUT: 3, PERSISTENT_ONLY: 'false' };

describe('parallel shutdown: PARALLEL_SHUTDOWN in flight, one SHUTDOWN_TIMEOUT budget per URI', () => {
  test('the matrix fleet: a slot is given on at the power-off event, the stuck guests hold theirs to the budget', async () => {
    const { host, outcomes, result } = await shutdown(matrixFleet(), MATRIX);
    assert.deepEqual(host.log.filter((l) => !l.includes('connect')), [
      '0 shutdown stuck1',
      '0 shutdown stuck2',
      '0 shutdown slow1',
      '0 shutdown slow2',
      '2000 off slow1',
      '2000 shutdown agent1',
      '2000 off slow2',
      '2000 shutdown agent2',
      '2200 off agent1',
      '2200 shutdown transient1',
      '2200 off agent2',
      '2200 shutdown transient2',
      '2400 off transient1',
      '2400 off transient2',
    ]);
    assert.deepEqual(outcomes, {
      stuck1: 'timeout',
      stuck2: 'timeout',
      slow1: 'done',
      slow2: 'done',
      agent1: 'done',
      agent2: 'done',
      transient1: 'done',
      transient2: 'done',
    });
    assert.equal(result.durationMs, 3000, 'the stop ends when the budget does');
    assert.equal(result.exit, 1);
  });

  test('guests still queued when the budget expires are asked then, not waited for, and reported as timed out', async () => {
    // the same fleet on a loaded host: the slow guests take 2.9 s, so the others reach a slot late or never
    const { host, outcomes, byName, services } = await shutdown(matrixFleet(2900), MATRIX);
    assert.equal(host.when('shutdown', 'agent1'), 2900);
    assert.equal(host.when('shutdown', 'transient1'), 3000, 'asked when the budget expired');
    assert.equal(host.when('shutdown', 'transient2'), 3000);
    assert.equal(host.when('off', 'transient1'), undefined, 'still going off when the stop returns');
    assert.equal(host.guest('transient1').goingOff, true);
    assert.deepEqual(outcomes, {
      stuck1: 'timeout',
      stuck2: 'timeout',
      slow1: 'done',
      slow2: 'done',
      agent1: 'timeout',
      agent2: 'timeout',
      transient1: 'timeout',
      transient2: 'timeout',
    });
    assert.match(byName('transient1').error ?? '', /still queued when the shutdown timeout expired: asked to shut down, not waited for/);
    assert.match(byName('agent1').error ?? '', /not off within 3 s \(SHUTDOWN_TIMEOUT\)/);
    assert.equal(services.events.filter((e) => e.kind === 'timeout-expired').length, 1, 'one "Timeout expired" line');
  });

  test('never more than PARALLEL_SHUTDOWN guests asked and not yet off', async () => {
    const guests = Array.from({ length: 7 }, (_, i): FakeGuestSpec => ({ name: `g${i}`, shutdownMs: 300 + 100 * i }));
    const { host, outcomes } = await shutdown(guests, { PARALLEL_SHUTDOWN: 3, SHUTDOWN_TIMEOUT: 60 });
    let inFlight = 0;
    let most = 0;
    for (const line of host.log) {
      if (line.includes(' shutdown ')) most = Math.max(most, ++inFlight);
      if (line.includes(' off ')) inFlight--;
    }
    assert.equal(most, 3);
    assert.ok(Object.values(outcomes).every((o) => o === 'done'));
    assert.equal(host.when('shutdown', 'g3'), 300, 'the first slot freed (g0 off at 300 ms) goes to the next in line');
  });

  test('with FALLBACK=1 the guests not off when the budget expires are destroyed, queued ones included', async () => {
    const { host, byName } = await shutdown(matrixFleet(2900), { ...MATRIX, FALLBACK: true });
    for (const name of ['stuck1', 'agent1', 'transient1']) {
      assert.equal(host.when('destroyed', name), 3000, name);
      assert.deepEqual([byName(name).outcome, byName(name).finalAction, byName(name).fallback], ['done', 'destroy', ['destroy']], name);
    }
    assert.equal(byName('slow1').fallback.length, 0);
  });

  test('STOP_DEADLINE before the budget ends the waits at the deadline, as aborted', async () => {
    const { host, byName, result } = await shutdown(matrixFleet(), { ...MATRIX, SHUTDOWN_TIMEOUT: 300, STOP_DEADLINE: 1 });
    assert.equal(host.when('shutdown', 'agent1'), 1000, 'queued guests are asked at the deadline');
    assert.equal(byName('stuck1').outcome, 'aborted');
    assert.match(byName('stuck1').error ?? '', /STOP_DEADLINE/);
    assert.equal(result.deadlineExpired, true);
    assert.equal(result.durationMs, 1000);
  });

  test('"Waiting for N guests" every 5 s with the seconds left of the budget', async () => {
    const { services } = await shutdown([{ name: 'stuck', shutdownMs: null }, { name: 'slow', shutdownMs: 7000 }], {
      PARALLEL_SHUTDOWN: 2,
      SHUTDOWN_TIMEOUT: 12,
    });
    const waiting = services.events.flatMap((e) => (e.kind === 'uri-waiting' ? [`${e.count}:${e.secondsLeft}`] : []));
    assert.deepEqual(waiting, ['2:7', '1:2']);
  });
});

describe('sequential shutdown: SHUTDOWN_TIMEOUT for each guest', () => {
  test('each guest is asked when the one before is off or its own timeout expired', async () => {
    const { host, outcomes, result } = await shutdown(
      [{ name: 'stuck', shutdownMs: null }, { name: 'slow', shutdownMs: 2000 }, { name: 'quick', shutdownMs: 0 }],
      { PARALLEL_SHUTDOWN: 0, SHUTDOWN_TIMEOUT: 3 },
    );
    assert.deepEqual(host.logOf('shutdown'), ['0 shutdown stuck', '3000 shutdown slow', '5000 shutdown quick']);
    assert.deepEqual(outcomes, { stuck: 'timeout', slow: 'done', quick: 'done' });
    assert.equal(result.durationMs, 5000);
  });

  test('SHUTDOWN_TIMEOUT=0 waits as long as it takes, reporting every 5 s with no limit', async () => {
    const { services, outcomes } = await shutdown([{ name: 'slow', shutdownMs: 12_000 }], { SHUTDOWN_TIMEOUT: 0 });
    assert.equal(outcomes.slow, 'done');
    const waiting = services.events.flatMap((e) => (e.kind === 'guest-waiting' ? [e.secondsLeft] : []));
    assert.deepEqual(waiting, [null, null]);
  });
});
