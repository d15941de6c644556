import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeepaliveProber } from '../../../src/rpc/keepalive.js';

describe('KeepaliveProber', () => {
  it('pings after an idle interval and declares the peer dead after interval × (count + 1)', async () => {
    let pings = 0;
    let deadAfter = -1;
    const started = Date.now();
    const prober = new KeepaliveProber({ intervalMs: 40, count: 2 }, () => pings++, () => (deadAfter = Date.now() - started));
    prober.start();
    await sleep(200);
    prober.stop();
    assert.equal(pings, 2);
    assert.ok(deadAfter >= 120 && deadAfter < 190, `dead after ${deadAfter} ms`);
  });

  it('does not ping while traffic arrives', async () => {
    let pings = 0;
    let dead = false;
    const prober = new KeepaliveProber({ intervalMs: 40, count: 1 }, () => pings++, () => (dead = true));
    prober.start();
    const feed = setInterval(() => prober.touch(), 10);
    await sleep(150);
    clearInterval(feed);
    prober.stop();
    assert.equal(pings, 0);
    assert.equal(dead, false);
  });
});
