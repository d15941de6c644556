// ON_SHUTDOWN=migrate over a fake clock and host: PARALLEL_MIGRATE, MIGRATE_TIMEOUT and the local action for every
// guest that cannot go; the list file keeps only those, the record of migrated guests the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GuestsConfig } from '../../../src/config/variables.js';
import { StateFileError } from '../../../src/errors.js';
import { migrationRecordPath, returnGuests } from '../../../src/orchestrator/migrate.js';
import { POLICY_NAMESPACE } from '../../../src/orchestrator/policy/metadata.js';
import { stopGuests } from '../../../src/orchestrator/stop.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeHost, fakeServices, guestsConfig, type FakeGuestSpec } from '../../helpers/fake-host.js';
import { memoryFiles } from '../../helpers/memory-files.js';

const LIST = '/var/lib/libvirt/libvirt-guests';
const PEER = 'qemu+tls://peer.example/system';

async function stop(guests: FakeGuestSpec[], config: Partial<GuestsConfig>, command: 'stop' | 'shutdown' = 'stop') {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  const added = guests.map((g) => host.add(g));
  const services = fakeServices(clock, [host]);
  const cfg = guestsConfig([host], { ON_SHUTDOWN: 'migrate', MIGRATE_URI: PEER, ...config });
  const request = { command, action: command === 'shutdown' ? ('shutdown' as const) : cfg.ON_SHUTDOWN, config: cfg, dryRun: false, listFile: LIST, lockFile: '/lock' };
  const result = await clock.run(stopGuests(request, services));
  const guestResults = Object.fromEntries(result.uris.flatMap((u) => u.guests).map((g) => [g.name, g]));
  return { host, added, services, result, guestResults };
}

test('PARALLEL_MIGRATE migrations at once; the migrated guests are recorded, not listed', async () => {
  const { host, services, result, guestResults } = await stop(
    [1, 2, 3].map((i) => ({ name: `g${i}`, migrateMs: 2000 })),
    { PARALLEL_MIGRATE: 2 },
  );
  assert.deepEqual(host.logOf('migrate'), ['0 migrate g1', '0 migrate g2', '2000 migrate g3']);
  assert.equal(result.durationMs, 4000);
  assert.equal(result.exit, 0);
  for (const g of Object.values(guestResults)) assert.deepEqual([g.action, g.outcome, g.migratedTo], ['migrate', 'done', PEER]);
  assert.equal(services.files.data.get(LIST), undefined, 'no list: nothing to start here');
  const record = JSON.parse(services.files.data.get(migrationRecordPath(LIST)) ?? '{}') as { guests: { name: string; peer: string }[] };
  assert.deepEqual(record.guests.map((g) => `${g.name} ${g.peer}`).sort(), [`g1 ${PEER}`, `g2 ${PEER}`, `g3 ${PEER}`]);
  assert.deepEqual(result.list, []);
});

test('MIGRATE_TIMEOUT aborts a migration; that guest is suspended instead and stays in the list', async () => {
  const { host, added, services, result, guestResults } = await stop(
    [
      { name: 'slow', migrateMs: 10_000, saveMs: 1000 },
      { name: 'quick', migrateMs: 500 },
    ],
    { MIGRATE_TIMEOUT: 3 },
  );
  assert.deepEqual(host.logOf('migrate-aborted'), ['3000 migrate-aborted slow']);
  assert.deepEqual(host.logOf('save'), ['3000 save slow']);
  const slow = guestResults.slow!;
  assert.deepEqual([slow.action, slow.finalAction, slow.outcome, slow.fallback], ['migrate', 'suspend', 'done', ['suspend']]);
  assert.match(slow.migrateError ?? '', /MIGRATE_TIMEOUT \(3 s\) expired: the migration was aborted/);
  assert.equal(guestResults.quick!.outcome, 'done');
  assert.equal(result.durationMs, 4000);
  assert.equal(services.files.data.get(LIST), `${host.uri} ${added[0]!.uuid}\n`, 'only the suspended guest is listed');
});

test('a failed migration gets MIGRATE_FALLBACK=shutdown (with FALLBACK=1 its own fallback); none is left running', async () => {
  const { host, result, guestResults } = await stop(
    [
      { name: 'refused', migrateError: 'peer full', shutdownMs: 1000 },
      { name: 'stuck', migrateError: 'peer full', shutdownMs: null },
    ],
    { MIGRATE_FALLBACK: 'shutdown', SHUTDOWN_TIMEOUT: 5, FALLBACK: true },
  );
  assert.deepEqual(
    Object.values(guestResults).map((g) => [g.name, g.finalAction, g.outcome, g.fallback.join('>'), g.migrateError]),
    [
      ['refused', 'shutdown', 'done', 'shutdown', 'peer full'],
      ['stuck', 'destroy', 'done', 'shutdown>destroy', 'peer full'],
    ],
  );
  assert.equal(result.exit, 0);
  assert.deepEqual(
    [...host.guests.values()].map((g) => [g.name, g.state]),
    [
      ['refused', 'shutoff'],
      ['stuck', 'shutoff'],
    ],
  );
});

const policy = (attrs: string): Record<string, string> => ({ [POLICY_NAMESPACE]: `<lgt:policy xmlns:lgt="${POLICY_NAMESPACE}" ${attrs}/>` });

test('per-guest on-shutdown=migrate beside ON_SHUTDOWN=suspend; the shutdown command shuts such a guest down', async () => {
  const guests = [
    { name: 'mover', metadata: policy('on-shutdown="migrate"') },
    { name: 'stayer', saveMs: 1000 },
  ];
  const { host, guestResults } = await stop(guests, { ON_SHUTDOWN: 'suspend' });
  assert.deepEqual(host.logOf('migrate'), ['0 migrate mover']);
  assert.deepEqual([guestResults.mover!.action, guestResults.mover!.migratedTo], ['migrate', PEER]);
  assert.deepEqual([guestResults.stayer!.action, guestResults.stayer!.migratedTo], ['suspend', undefined]);

  const down = await stop(guests, { ON_SHUTDOWN: 'suspend' }, 'shutdown');
  assert.deepEqual(down.host.logOf('migrate'), []);
  assert.deepEqual(Object.values(down.guestResults).map((g) => [g.name, g.action]), [
    ['mover', 'shutdown'],
    ['stayer', 'shutdown'],
  ]);
});

test('on-shutdown=migrate without MIGRATE_URI: the guest gets MIGRATE_FALLBACK, saying why', async () => {
  const { host, guestResults } = await stop([{ name: 'mover', metadata: policy('on-shutdown="migrate"') }], { ON_SHUTDOWN: 'suspend', MIGRATE_URI: '' });
  assert.deepEqual(host.logOf('migrate'), []);
  const g = guestResults.mover!;
  assert.deepEqual([g.action, g.finalAction, g.outcome, g.fallback], ['migrate', 'suspend', 'done', ['suspend']]);
  assert.match(g.migrateError ?? '', /MIGRATE_URI is not set/);
});

test('a list file that cannot be written: the migrated guests are recorded all the same (they are undefined here)', async () => {
  const clock = new FakeClock();
  const host = new FakeHost(clock);
  host.add({ name: 'mover' });
  const files = memoryFiles();
  const writeAtomic = files.writeAtomic;
  files.writeAtomic = async (file, text, mode) => {
    if (file === LIST) throw new StateFileError(LIST, 'is a directory');
    return writeAtomic(file, text, mode);
  };
  const services = fakeServices(clock, [host], files);
  const config = guestsConfig([host], { ON_SHUTDOWN: 'migrate', MIGRATE_URI: PEER });
  const result = await clock.run(stopGuests({ command: 'stop', action: 'migrate', config, dryRun: false, listFile: LIST, lockFile: '/lock' }, services));
  assert.match(result.listError ?? '', /is a directory/);
  assert.equal(result.exit, 1);
  const record = JSON.parse(files.data.get(migrationRecordPath(LIST)) ?? '{}') as { guests?: { name: string; peer: string }[] };
  assert.deepEqual(record.guests?.map((g) => `${g.name} ${g.peer}`), [`mover ${PEER}`]);
});

test('return: a guest the peer cannot look up (not NO_DOMAIN) stays recorded; one it does not have is dropped', async () => {
  const clock = new FakeClock();
  const home = new FakeHost(clock);
  const peer = new FakeHost(clock, PEER);
  const kept = peer.add({ name: 'kept' });
  const away = [
    { uri: home.uri, peer: PEER, uuid: kept.uuid, name: 'kept', at: '2026-01-01T00:00:00.000Z' },
    { uri: home.uri, peer: PEER, uuid: '00000000-0000-4000-8000-00000000dead', name: 'gone', at: '2026-01-01T00:00:00.000Z' },
  ];
  const files = memoryFiles({ [migrationRecordPath(LIST)]: JSON.stringify({ version: 1, guests: away }) });
  const services = fakeServices(clock, [home, peer], files);
  peer.failLookups = 1; // the first lookup, kept's (PARALLEL_MIGRATE begins them in the record's order)
  const config = guestsConfig([home], { MIGRATE_URI: PEER });
  const result = await clock.run(returnGuests({ config, dryRun: false, listFile: LIST }, services));
  const outcomes = Object.fromEntries(result.uris.flatMap((u) => u.guests).map((g) => [g.name, [g.outcome, g.error]]));
  assert.equal(outcomes.kept?.[0], 'failed');
  assert.match(String(outcomes.kept?.[1]), /cannot look it up on the peer .*stays in the record/);
  assert.equal(result.exit, 1);
  assert.equal(result.away, 1);
  const record = JSON.parse(files.data.get(migrationRecordPath(LIST)) ?? '{}') as { guests?: { name: string }[] };
  assert.deepEqual(outcomes.gone?.[0], 'missing');
  assert.deepEqual(record.guests?.map((g) => g.name), ['kept']);
  assert.equal(peer.guest('kept').state, 'running', 'not migrated');
});

test('return: a record with an entry that is not a guest (no peer) is an error naming the file; it is left as it is', async () => {
  const clock = new FakeClock();
  const home = new FakeHost(clock);
  const text = JSON.stringify({ version: 1, guests: [{ uri: home.uri, uuid: 'u', name: 'web1' }] });
  const files = memoryFiles({ [migrationRecordPath(LIST)]: text });
  const services = fakeServices(clock, [home], files);
  await assert.rejects(clock.run(returnGuests({ config: guestsConfig([home]), dryRun: false, listFile: LIST }, services)), (err: unknown) => {
    assert.ok(err instanceof StateFileError);
    assert.match(err.message, /libvirt-guests\.migrated: not a record of migrated guests .*each with uri, peer, uuid and name/);
    return true;
  });
  assert.equal(files.data.get(migrationRecordPath(LIST)), text);
});
