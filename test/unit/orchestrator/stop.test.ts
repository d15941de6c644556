// The stop's clock: PARALLEL_SUSPEND saves at once, the STOP_DEADLINE that aborts them (and with FALLBACK=1 powers
// the guests off), and what systemd is told meanwhile (STATUS=, EXTEND_TIMEOUT_USEC= never past the deadline plus
// its grace). Exact times over a fake clock and a fake host.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GuestsConfig } from '../../../src/config/variables.js';
import type { StopResult } from '../../../src/orchestrator/result.js';
import { DEADLINE_GRACE_MS, stopGuests } from '../../../src/orchestrator/stop.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeHost, fakeServices, guestsConfig, type FakeGuestSpec, type FakeServices } from '../../helpers/fake-host.js';

const LIST = '/var/lib/libvirt/libvirt-guests';

async function stop(
  guests: FakeGuestSpec[],
  config: Partial<GuestsConfig>,
): Promise<{ host: FakeHost; services: FakeServices; result: StopResult; outcomes: Record<string, string> }> {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  for (const g of guests) host.add(g);
  const services = fakeServices(clock, [host]);
  const cfg = guestsConfig([host], config);
  const request = { command: 'stop' as const, action: cfg.ON_SHUTDOWN, config: cfg, dryRun: false, listFile: LIST, lockFile: '/lock' };
  const result = await clock.run(stopGuests(request, services));
  return { host, services, result, outcomes: Object.fromEntries(result.uris.flatMap((u) => u.guests).map((g) => [g.name, g.outcome])) };
}

const saving = (n: number, saveMs: number): FakeGuestSpec[] => Array.from({ length: n }, (_, i) => ({ name: `g${i + 1}`, saveMs }));

describe('suspend', () => {
  test('PARALLEL_SUSPEND saves at once, the next one starting as one ends', async () => {
    const { host, outcomes, result } = await stop([...saving(2, 4000), { name: 'g3', saveMs: 1000 }, { name: 'g4', saveMs: 1000 }], {
      PARALLEL_SUSPEND: 2,
    });
    assert.deepEqual(host.logOf('save'), ['0 save g1', '0 save g2', '4000 save g3', '4000 save g4']);
    assert.deepEqual(Object.values(outcomes), ['done', 'done', 'done', 'done']);
    assert.equal(result.durationMs, 5000);
    assert.equal(result.uris[0]!.guests[0]!.bytes, 64 * 1024 * 1024);
  });

  test('the list file is written before the first guest is touched', async () => {
    const clock = new FakeClock();
    const host = new FakeHost(clock);
    const g = host.add({ name: 'g', saveMs: 1000 });
    const services = fakeServices(clock, [host]);
    let listed: string | undefined;
    const request = { command: 'stop' as const, action: 'suspend' as const, config: guestsConfig([host]), dryRun: false, listFile: LIST, lockFile: '/lock' };
    const run = stopGuests(request, {
      ...services,
      report: (e) => {
        if (e.kind === 'guest-begin') listed = services.files.data.get(LIST);
        services.report(e);
      },
    });
    await clock.run(run);
    assert.equal(listed, `${host.uri} ${g.uuid}\n`);
  });
});

describe('STOP_DEADLINE', () => {
  test('saves still running are aborted when it passes; queued ones are never begun', async () => {
    const { host, outcomes, result, services } = await stop(saving(3, 10_000), { PARALLEL_SUSPEND: 2, STOP_DEADLINE: 4 });
    assert.deepEqual(host.logOf('save'), ['0 save g1', '0 save g2']);
    assert.deepEqual(host.logOf('save-aborted'), ['4000 save-aborted g1', '4000 save-aborted g2']);
    assert.deepEqual(outcomes, { g1: 'aborted', g2: 'aborted', g3: 'aborted' });
    assert.deepEqual([result.deadlineExpired, result.exit, result.durationMs], [true, 1, 4000]);
    assert.deepEqual(
      services.events.filter((e) => e.kind === 'deadline-expired'),
      [{ kind: 'deadline-expired', seconds: 4 }],
    );
    assert.equal(host.guest('g1').state, 'running', 'an aborted save leaves the guest running');
  });

  test('with FALLBACK=1 the guests whose save was cut short are powered off at the deadline', async () => {
    const { host, result } = await stop(saving(3, 10_000), { PARALLEL_SUSPEND: 2, STOP_DEADLINE: 4, FALLBACK: true });
    assert.deepEqual(host.logOf('destroyed'), ['4000 destroyed g1', '4000 destroyed g2', '4000 destroyed g3']);
    for (const g of result.uris[0]!.guests) assert.deepEqual([g.outcome, g.finalAction], ['done', 'destroy'], g.name);
  });

  test('a failed save falls back to a shutdown within SHUTDOWN_TIMEOUT, then to destroy (FALLBACK=1)', async () => {
    const { host, result } = await stop(
      [
        { name: 'broken', saveError: 'disk full', shutdownMs: 1500 },
        { name: 'stuck', saveError: 'disk full', shutdownMs: null },
      ],
      { FALLBACK: true, SHUTDOWN_TIMEOUT: 5 },
    );
    assert.deepEqual(host.log.filter((l) => !l.includes('connect')), [
      '0 save broken',
      '0 save stuck',
      '0 shutdown broken',
      '0 shutdown stuck',
      '1500 off broken',
      '5000 destroyed stuck',
    ]);
    const [broken, stuck] = result.uris[0]!.guests;
    assert.deepEqual([broken!.outcome, broken!.fallback], ['done', ['shutdown']]);
    assert.deepEqual([stuck!.outcome, stuck!.fallback], ['done', ['shutdown', 'destroy']]);
  });
});

describe('systemd', () => {
  test('30 s more every 10 s while the stop works, and how far it got', async () => {
    const { services } = await stop(saving(1, 45_000), {});
    assert.deepEqual(services.notices, [
      '0 extend 30000',
      '0 status Suspending guests: 0 of 1 done',
      '10000 status Suspending guests: 0 of 1 done',
      '10000 extend 30000',
      '20000 status Suspending guests: 0 of 1 done',
      '20000 extend 30000',
      '30000 status Suspending guests: 0 of 1 done',
      '30000 extend 30000',
      '40000 status Suspending guests: 0 of 1 done',
      '40000 extend 30000',
      '45000 status Suspending guests: 1 of 1 done',
    ]);
  });

  test('with STOP_DEADLINE, never more time than the deadline plus its grace', async () => {
    // a guest that never goes off, no SHUTDOWN_TIMEOUT: only the deadline ends the stop
    const { services, result } = await stop([{ name: 'stuck', shutdownMs: null }], { ON_SHUTDOWN: 'shutdown', SHUTDOWN_TIMEOUT: 0, STOP_DEADLINE: 25 });
    const extensions = services.notices.filter((n) => n.includes('extend')).map((n) => n.split(' ').map(Number));
    assert.deepEqual(extensions.map(([at, , ms]) => [at, ms]), [
      [0, 30_000],
      [10_000, 30_000],
      [20_000, 25_000 + DEADLINE_GRACE_MS - 20_000],
    ]);
    assert.equal(result.durationMs, 25_000);
  });
});
