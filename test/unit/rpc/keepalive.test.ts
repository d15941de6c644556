// The keepalive rule over mocked timers (setTimeout and Date move only when the test ticks them): exact times,
// whatever the machine's load.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { KeepaliveProber } from '../../../src/rpc/keepalive.js';

/** a prober whose pings and verdict are recorded with the (mocked) time they happened at */
function prober(intervalMs: number, count: number, excused?: () => boolean) {
  const pings: number[] = [];
  const verdicts: { at: number; silentMs: number }[] = [];
  const p = new KeepaliveProber(
    { intervalMs, count },
    () => pings.push(Date.now()),
    (silentMs) => verdicts.push({ at: Date.now(), silentMs }),
    () => Date.now(),
    excused,
  );
  return { p, pings, verdicts };
}

/** moves the mocked time forward one ms at a time, calling `each` before every step */
function tick(ms: number, each: (now: number) => void = () => undefined): void {
  for (let i = 0; i < ms; i++) {
    each(Date.now());
    mock.timers.tick(1);
  }
}

describe('KeepaliveProber', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('pings after each interval of silence and declares the peer dead after interval × (count + 1)', () => {
    const { p, pings, verdicts } = prober(40, 2);
    p.start();
    tick(119);
    assert.deepEqual(pings, [40, 80], 'one ping per interval of silence, count of them');
    assert.deepEqual(verdicts, []);
    tick(1);
    assert.deepEqual(verdicts, [{ at: 120, silentMs: 120 }]);
    tick(200);
    assert.deepEqual(pings, [40, 80], 'nothing after the verdict');
    p.stop();
  });

  it('does not ping while traffic arrives, and counts the silence from the last message', () => {
    const { p, pings, verdicts } = prober(40, 1);
    p.start();
    tick(150, (now) => now % 10 === 0 && p.touch());
    assert.deepEqual(pings, []);
    // the last message arrived at 140: a ping at 180, the verdict at 140 + 40 × 2
    tick(100);
    assert.deepEqual(pings, [180]);
    assert.deepEqual(verdicts, [{ at: 220, silentMs: 80 }]);
    p.stop();
  });

  it('while the silence is excused (we are not reading) keeps pinging and never declares the peer dead', () => {
    let excused = true;
    const { p, pings, verdicts } = prober(20, 1, () => excused);
    p.start();
    tick(100);
    assert.deepEqual(pings, [20, 40, 60, 80, 100], 'a ping every interval, past the silence that would be fatal');
    assert.deepEqual(verdicts, []);
    excused = false;
    tick(19);
    assert.deepEqual(verdicts, [], 'the verdict waits for the next wake-up');
    tick(1);
    assert.deepEqual(verdicts, [{ at: 120, silentMs: 120 }]);
    p.stop();
  });

  it('never sends more than count PINGs, even when its clock reads the deadline a little early', () => {
    // the timer due at 120 fires while the clock still reads 119 (timers and Date.now() round differently): before,
    // that sent a third PING before the verdict
    const pings: number[] = [];
    const verdicts: { at: number; silentMs: number }[] = [];
    const p = new KeepaliveProber(
      { intervalMs: 40, count: 2 },
      () => pings.push(Date.now()),
      (silentMs) => verdicts.push({ at: Date.now(), silentMs }),
      () => Date.now() - (Date.now() >= 110 ? 1 : 0),
    );
    p.start();
    tick(130);
    assert.deepEqual(pings, [40, 80], 'count PINGs, no more');
    assert.deepEqual(verdicts, [{ at: 121, silentMs: 120 }]);
    p.stop();
  });

  it('stop() ends it: no ping, no verdict', () => {
    const { p, pings, verdicts } = prober(40, 1);
    p.start();
    tick(39);
    p.stop();
    tick(500);
    assert.deepEqual([pings, verdicts], [[], []]);
  });
});
