// The start's clock: START_DELAY between starts or PARALLEL_START at once, and the waits for a save or a shutdown
// still under way (a stop killed half-way), bounded as the stop itself would have been. Exact times (fake clock).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GuestsConfig } from '../../../src/config/variables.js';
import type { StartResult } from '../../../src/orchestrator/result.js';
import { shutdownRecordPath } from '../../../src/orchestrator/shutdown-record.js';
import { startGuests } from '../../../src/orchestrator/start.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeHost, fakeServices, guestsConfig, type FakeGuestSpec, type FakeServices } from '../../helpers/fake-host.js';
import { memoryFiles } from '../../helpers/memory-files.js';

const LIST = '/var/lib/libvirt/libvirt-guests';

interface Started {
  host: FakeHost;
  services: FakeServices;
  result: StartResult;
  outcomes: Record<string, string>;
}

/**
 * Starts the listed guests. `before` runs on the host first (a stop killed half-way: a save or a shutdown under way)
 * and returns the lines of the record of asked shutdowns, if any.
 */
async function start(
  guests: FakeGuestSpec[],
  config: Partial<GuestsConfig>,
  before: (host: FakeHost, clock: FakeClock) => Promise<string | void> = async () => undefined,
): Promise<Started> {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  const listed = guests.map((g) => host.add(g).uuid);
  const record = await before(host, clock);
  const files = memoryFiles({ [LIST]: `${host.uri} ${listed.join(' ')}\n`, ...(record ? { [shutdownRecordPath(LIST)]: record } : {}) });
  const services = fakeServices(clock, [host], files);
  const request = { config: guestsConfig([host], config), dryRun: false, listFile: LIST, lockFile: '/lock' };
  const result = await clock.run(startGuests(request, services));
  return { host, services, result, outcomes: Object.fromEntries(result.uris.flatMap((u) => u.guests).map((g) => [g.name, g.outcome])) };
}

const off = (n: number, extra: Partial<FakeGuestSpec> = {}): FakeGuestSpec[] =>
  Array.from({ length: n }, (_, i) => ({ name: `g${i + 1}`, running: false, ...extra }));

describe('pacing', () => {
  test('START_DELAY seconds between two starts, none before the first', async () => {
    const { host } = await start(off(3), { START_DELAY: 5 });
    assert.deepEqual(host.logOf('boot'), ['0 boot g1', '5000 boot g2', '10000 boot g3']);
  });

  test('START_DELAY=0: PARALLEL_START at once', async () => {
    const { host, services } = await start(off(5, { startMs: 1000 }), { PARALLEL_START: 2 });
    assert.deepEqual(host.logOf('boot').map((l) => Number(l.split(' ')[0])), [0, 0, 1000, 1000, 2000]);
    assert.equal(services.files.data.has(LIST), false, 'every guest started: the list is gone');
  });
});

describe('a stop still under way', () => {
  test('a save in progress is waited for (its job polled every 250 ms), then the guest is restored', async () => {
    const { host, outcomes } = await start([{ name: 'g', saveMs: 1100 }], {}, async (h) => {
      const conn = h.connect();
      void conn.managedSave(await conn.lookup('g'));
    });
    assert.deepEqual(host.log.filter((l) => !l.includes('connect')), ['0 save g', '1100 saved g', '1250 restore g']);
    assert.equal(outcomes.g, 'done');
  });

  test('a guest asked to shut down (same id in the record) is waited for until off, then started', async () => {
    const { host, outcomes, services } = await start([{ name: 'g', shutdownMs: 5000 }], { SHUTDOWN_TIMEOUT: 300 }, async (h, clock) => {
      const conn = h.connect();
      const g = await conn.lookup('g');
      await conn.shutdown(g);
      return `${h.uri} ${g.uuid} ${g.id} ${clock.now()}\n`;
    });
    assert.deepEqual(host.logOf('g'), ['0 shutdown g', '5000 off g', '5000 boot g']);
    assert.equal(outcomes.g, 'done');
    assert.ok(services.events.some((e) => e.kind === 'guest-waiting' && e.secondsLeft === 300));
    assert.equal(services.files.data.has(shutdownRecordPath(LIST)), false, 'the note goes with the guest');
  });

  test("a guest in libvirt's 'shutdown' state is waited for too, without a note (SHUTDOWN_TIMEOUT=0: up to 300 s)", async () => {
    const { host, outcomes } = await start([{ name: 'g', shutdownMs: 5000 }], { SHUTDOWN_TIMEOUT: 0 }, async (h) => {
      h.showsShutdown = true;
      const conn = h.connect();
      await conn.shutdown(await conn.lookup('g'));
    });
    assert.deepEqual(host.logOf('g'), ['0 shutdown g', '5000 off g', '5000 boot g']);
    assert.equal(outcomes.g, 'done');
  });

  test('as long as the stop would have waited: SHUTDOWN_TIMEOUT from the request', async () => {
    // asked 1 s before start looks, SHUTDOWN_TIMEOUT=3: start waits 2 s more, then takes it as it is (running)
    const { host, outcomes, result } = await start([{ name: 'g', shutdownMs: 5000 }], { SHUTDOWN_TIMEOUT: 3 }, async (h, clock) => {
      const conn = h.connect();
      const g = await conn.lookup('g');
      await conn.shutdown(g);
      const asked = clock.now();
      await clock.run(clock.sleep(1000));
      return `${h.uri} ${g.uuid} ${g.id} ${asked}\n`;
    });
    assert.equal(outcomes.g, 'already-active');
    assert.equal(result.durationMs, 2000);
    assert.equal(host.when('boot', 'g'), undefined);
  });

  test('a note under another id (started again since) or from before the last boot is not waited for', async () => {
    for (const [label, note] of [
      ['another id', (id: number, now: number) => `${id + 1} ${now}`],
      ['before the boot', (id: number, now: number) => `${id} ${now - 7_200_000}`],
    ] as const) {
      const { outcomes, result } = await start([{ name: 'g', shutdownMs: null }], {}, async (h, clock) => {
        const g = h.guest('g');
        return `${h.uri} ${g.uuid} ${note(g.id, clock.now())}\n`;
      });
      assert.deepEqual([outcomes.g, result.durationMs], ['already-active', 0], label);
    }
  });
});

describe('after the start', () => {
  test('SYNC_TIME sets the clock of each started guest; one without agent is reported and does not fail', async () => {
    const { host, result } = await start([...off(1), { name: 'noagent', running: false, agent: false }], { SYNC_TIME: true });
    assert.deepEqual(host.logOf('settime'), ['0 settime g1']);
    const [g1, noagent] = result.uris[0]!.guests;
    assert.deepEqual([g1!.outcome, g1!.timeSync], ['done', 'done']);
    assert.deepEqual([noagent!.outcome, noagent!.timeSync], ['done', 'failed']);
    assert.equal(result.exit, 0);
  });

  test('a URI that cannot be reached keeps its guests in the list', async () => {
    const { services, result } = await start(off(2), { CONNECT_RETRIES: 2, RETRIES_SLEEP: 1 }, async (h) => void (h.refuseConnects = 10));
    assert.equal(result.exit, 1);
    assert.equal(result.durationMs, 2000);
    assert.match(services.files.data.get(LIST) ?? '', /^fake:\/\/\/system \S+ \S+\n$/);
  });
});
