// `policy set|unset` must never write without knowing what is stored: a metadata read that fails (a busy daemon)
// would otherwise drop every attribute not named. A fake host stands for that rare failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OperationError } from '../../../../src/errors.js';
import { changePolicy } from '../../../../src/orchestrator/policy-admin.js';
import { POLICY_NAMESPACE } from '../../../../src/orchestrator/policy/metadata.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { FakeHost, fakeServices, guestsConfig } from '../../../helpers/fake-host.js';

const STORED = `<lgt:policy xmlns:lgt="${POLICY_NAMESPACE}" order="3" on-shutdown="destroy"/>`;

function setUp() {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  const guest = host.add({ name: 'db1', metadata: { [POLICY_NAMESPACE]: STORED } });
  return { host, guest, services: fakeServices(clock, [host]), config: guestsConfig([host]) };
}

test('policy set when the metadata cannot be read: an error naming the guest, nothing written', async () => {
  const { host, guest, services, config } = setUp();
  host.failMetadataReads = 1;
  await assert.rejects(changePolicy(config, { name: 'db1', set: { order: 1 }, unset: [], dryRun: false }, services), (err: unknown) => {
    assert.ok(err instanceof OperationError);
    assert.equal(err.code, 'policy-unreadable');
    assert.match(err.message, /cannot read the policy of guest "db1" on fake:\/\/\/system .*nothing was changed/);
    return true;
  });
  assert.equal(guest.metadata.get(POLICY_NAMESPACE), STORED);

  const done = await changePolicy(config, { name: 'db1', set: { order: 1 }, unset: [], dryRun: false }, services);
  assert.equal(done.metadata, '<policy order="1" on-shutdown="destroy"/>', 'read again, the other attribute is kept');
});

test('policy unset of the whole policy needs no read: it goes even when the metadata cannot be read', async () => {
  const { host, guest, services, config } = setUp();
  host.failMetadataReads = 1;
  const done = await changePolicy(config, { name: 'db1', set: {}, unset: 'all', dryRun: false }, services);
  assert.equal(done.metadata, null);
  assert.equal(guest.metadata.has(POLICY_NAMESPACE), false);
});
