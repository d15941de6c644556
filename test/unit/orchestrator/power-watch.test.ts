// How a stop knows that a guest is off: a lifecycle event at once, else a state poll (every 2 s beside working
// events, every second without them), within a limit, with a tick for progress lines. Times are exact (fake clock).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection, GuestRef } from '../../../src/connect/connection.js';
import { PowerWatch } from '../../../src/orchestrator/power-watch.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeHost, type FakeGuestSpec } from '../../helpers/fake-host.js';

interface Watched {
  clock: FakeClock;
  host: FakeHost;
  conn: Connection;
  watch: PowerWatch;
  guest: GuestRef;
}

/** one guest, asked to shut down at 0 ms, and a started watch */
async function watched(spec: Omit<FakeGuestSpec, 'name'>, tune: (host: FakeHost) => void = () => undefined): Promise<Watched> {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  host.add({ name: 'g', ...spec });
  tune(host);
  const conn = host.connect();
  const watch = new PowerWatch(conn, clock);
  await watch.start();
  const guest = await conn.lookup('g');
  await conn.shutdown(guest);
  return { clock, host, conn, watch, guest };
}

/** waits with `waitOff`, returning whether it was off and when the wait ended (ms after the request) */
async function waitOff(w: Watched, until: number | null, options?: Parameters<PowerWatch['waitOff']>[2]): Promise<[boolean, number]> {
  const began = w.clock.now();
  const off = await w.clock.run(w.watch.waitOff(w.guest, until, options));
  return [off, w.clock.now() - began];
}

describe('PowerWatch.waitOff', () => {
  test('a lifecycle event ends the wait at once', async () => {
    assert.deepEqual(await waitOff(await watched({ shutdownMs: 2500 }), null), [true, 2500]);
  });

  test('without events (a backend that has none) the state is polled every second', async () => {
    assert.deepEqual(await waitOff(await watched({ shutdownMs: 2500 }, (h) => (h.events = false)), null), [true, 3000]);
  });

  test('a missed event is caught by the poll, every 2 s', async () => {
    assert.deepEqual(await waitOff(await watched({ shutdownMs: 2500 }, (h) => (h.dropEvents = true)), null), [true, 4000]);
  });

  test('the limit ends the wait, exactly; a guest that vanished (transient) is off', async () => {
    const stuck = await watched({ shutdownMs: null });
    assert.deepEqual(await waitOff(stuck, stuck.clock.now() + 3000), [false, 3000]);
    const transient = await watched({ shutdownMs: 700, persistent: false }, (h) => (h.dropEvents = true));
    assert.deepEqual(await waitOff(transient, null), [true, 2000]);
  });

  test('the signal ends the wait at once', async () => {
    const w = await watched({ shutdownMs: null });
    const ac = new AbortController();
    w.clock.at(w.clock.now() + 1500, () => ac.abort());
    assert.deepEqual(await waitOff(w, null, { signal: ac.signal }), [false, 1500]);
  });

  test('tick every tickMs with the time left', async () => {
    const w = await watched({ shutdownMs: null });
    const ticks: [number, number | null][] = [];
    const began = w.clock.now();
    const tick = (msLeft: number | null): void => void ticks.push([w.clock.now() - began, msLeft]);
    assert.deepEqual(await waitOff(w, began + 12_000, { tick }), [false, 12_000]);
    assert.deepEqual(ticks, [
      [5000, 7000],
      [10_000, 2000],
    ]);
    ticks.length = 0;
    const unlimited = await watched({ shutdownMs: 4500 });
    await waitOff(unlimited, null, { tick, tickMs: 2000 });
    assert.deepEqual(ticks.map(([, left]) => left), [null, null]);
  });

  test('state reads failing twice in a row are tolerated; the third throws', async () => {
    const flaky = await watched({ shutdownMs: 2500 }, (h) => ((h.dropEvents = true), (h.failStates = 2)));
    assert.deepEqual(await waitOff(flaky, null), [true, 4000]);
    const lost = await watched({ shutdownMs: null }, (h) => ((h.dropEvents = true), (h.failStates = 3)));
    await assert.rejects(lost.clock.run(lost.watch.waitOff(lost.guest, null)), /cannot acquire state change lock/);
    assert.equal(lost.clock.elapsed(), 4000, 'the third read, at 4 s');
  });
});
