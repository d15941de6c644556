import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeepaliveProber } from '../../../src/rpc/keepalive.js';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 5000) assert.fail(`no ${what} within 5 s`);
    await sleep(10);
  }
}

describe('KeepaliveProber', () => {
  it('pings after an idle interval and declares the peer dead after interval × (count + 1)', async () => {
    let pings = 0;
    let deadAfter = -1;
    const started = Date.now();
    const prober = new KeepaliveProber({ intervalMs: 40, count: 2 }, () => pings++, () => (deadAfter = Date.now() - started));
    prober.start();
    await sleep(200);
    prober.stop();
    // how late timers fire depends on the machine's load: check what the rule guarantees, not the timing
    assert.ok(pings >= 1 && pings <= 2, `${pings} pings: one per interval of silence, count at most`);
    assert.ok(deadAfter >= 120, `dead after ${deadAfter} ms, not before interval × (count + 1)`);
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

  it('while the silence is excused (we are not reading) keeps pinging and never declares the peer dead', async () => {
    let pings = 0;
    let dead = false;
    let excused = true;
    const prober = new KeepaliveProber({ intervalMs: 20, count: 1 }, () => pings++, () => (dead = true), Date.now, () => excused);
    prober.start();
    await until(() => pings >= 4 || dead, 'four pings'); // twice the silence that would have been fatal
    assert.equal(dead, false);
    excused = false;
    await until(() => dead, 'the verdict');
    prober.stop();
  });
});
