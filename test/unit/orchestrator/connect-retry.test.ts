// Connecting to a daemon that is not up yet: CONNECT_RETRIES more tries, RETRIES_SLEEP seconds apart, never past
// the stop deadline. Exact times over a fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectWithRetry } from '../../../src/orchestrator/connect-retry.js';
import { stopGuests } from '../../../src/orchestrator/stop.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeHost, fakeServices, guestsConfig } from '../../helpers/fake-host.js';

function refusing(times: number): { clock: FakeClock; host: FakeHost; services: ReturnType<typeof fakeServices> } {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  host.refuseConnects = times;
  return { clock, host, services: fakeServices(clock, [host]) };
}

test('tries again RETRIES_SLEEP apart until the daemon answers', async () => {
  const { clock, host, services } = refusing(3);
  await clock.run(connectWithRetry(host.uri, { retries: 10, sleepMs: 1000, readonly: false }, services));
  assert.deepEqual(host.log, ['0 connect-refused -', '1000 connect-refused -', '2000 connect-refused -', '3000 connect -']);
  assert.deepEqual(
    services.events.map((e) => (e.kind === 'connect-retry' ? `${e.attempt}/${e.retries}` : e.kind)),
    ['1/10', '2/10', '3/10'],
  );
});

test('gives up after CONNECT_RETRIES more tries, with the last error', async () => {
  const { clock, host, services } = refusing(5);
  await assert.rejects(clock.run(connectWithRetry(host.uri, { retries: 2, sleepMs: 1000, readonly: true }, services)), /Connection refused/);
  assert.equal(host.logOf('connect-refused').length, 3);
  assert.equal(clock.elapsed(), 2000);
});

test('a stop gives up connecting when its deadline passes, and says the URI could not be reached', async () => {
  const { clock, host, services } = refusing(1000);
  const config = guestsConfig([host], { CONNECT_RETRIES: 100, RETRIES_SLEEP: 1, STOP_DEADLINE: 5 });
  const request = { command: 'stop' as const, action: 'suspend' as const, config, dryRun: false, listFile: '/l', lockFile: '/k' };
  const result = await clock.run(stopGuests(request, services));
  assert.equal(clock.elapsed(), 5000);
  assert.equal(host.logOf('connect-refused').length, 5, 'at 0, 1, 2, 3 and 4 s');
  assert.deepEqual([result.exit, result.uris[0]!.reachable], [1, false]);
});
