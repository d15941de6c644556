// libvirt-guests with ON_SHUTDOWN=migrate, evacuate and return, against two real guestd daemons: the guests run on at
// the peer with their memory intact and come back; a peer that is down makes every guest get the local action.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { openConnection } from '../../../src/connect/index.js';
import type { Connection } from '../../../src/connect/connection.js';
import { migrationRecordPath } from '../../../src/orchestrator/migrate.js';
import { MigrateResult, PolicyShowResult, StartResult, StopResult } from '../../../src/orchestrator/result.js';
import { runGuests } from '../../helpers/cli.js';
import { cleanupAllGuestd, startGuestd, type GuestdInstance } from '../../helpers/guestd.js';
import { askGuest } from '../../helpers/guests.js';
import { SHUTOFF_SAVED, startFleet, type Fleet } from '../../helpers/fleet.js';
import { parseResult } from '../../helpers/result-schema.js';

after(cleanupAllGuestd);

const RUNNING_MIGRATED = 2;


async function withPeer(kinds: Parameters<typeof startFleet>[0], body: (fleet: Fleet, peer: GuestdInstance, peerConn: Connection) => Promise<void>) {
  const [fleet, peer] = await Promise.all([startFleet(kinds, 8), startGuestd()]);
  const peerConn = await openConnection(peer.uri);
  try {
    await body(fleet, peer, peerConn);
  } finally {
    await peerConn.close().catch(() => undefined);
    await Promise.all([fleet.close(), peer.cleanup()]);
  }
}

const names = async (conn: Connection): Promise<string[]> => (await conn.listGuests({ which: 'active' })).map((g) => g.name).sort();

test('stop with ON_SHUTDOWN=migrate: every guest runs on at the peer with its memory; start brings them back', async () => {
  await withPeer({ plain: 3 }, async (fleet, peer, peerConn) => {
    fleet.configure({ ON_SHUTDOWN: 'migrate', MIGRATE_URI: `'${peer.uri}'`, PARALLEL_MIGRATE: 2, CONNECT_RETRIES: 0 });
    const counters = new Map<string, number>();
    for (const g of fleet.guests) counters.set(g.name, (await askGuest(fleet.guestd, g.name, (m) => m.call('query-state'))).counter);

    const stop = await runGuests(['stop', '--json'], fleet.sb.env);
    const stopped = parseResult(StopResult, stop);
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.equal(stopped.action, 'migrate');
    for (const g of stopped.uris[0]!.guests) {
      assert.deepEqual([g.action, g.outcome, g.migratedTo, g.fallback], ['migrate', 'done', peer.uri, []], g.name);
    }
    assert.deepEqual(await names(peerConn), fleet.guests.map((g) => g.name).sort(), 'all of them run at the peer');
    for (const g of fleet.guests) {
      assert.equal(await fleet.state(g.name), 'gone', `${g.name} left this host (undefined here)`);
      const there = await askGuest(peer, g.name, (m) => m.call('query-state'));
      assert.ok(there.restoredFrom && there.restoredFrom.counter >= counters.get(g.name)!, `${g.name} went on from its own state`);
    }
    assert.equal(fleet.listFile(), null, 'nothing for the original script to start here');
    const record = JSON.parse(readFileSync(migrationRecordPath(fleet.sb.listFile), 'utf8')) as { guests: { name: string; peer: string }[] };
    assert.deepEqual(record.guests.map((g) => [g.name, g.peer]).sort(), fleet.guests.map((g) => [g.name, peer.uri]).sort());
    assert.match(stop.stderr, /Migrating plain1 to .*: \.\.\./);

    const start = await runGuests(['start', '--json'], fleet.sb.env);
    const started = parseResult(StartResult, start);
    assert.equal(start.exitCode, 0, start.stderr);
    assert.deepEqual(started.uris[0]!.guests.map((g) => [g.name, g.outcome]).sort(), fleet.guests.map((g) => [g.name, 'done']).sort());
    assert.deepEqual(await names(peerConn), [], 'the peer is empty again');
    for (const g of fleet.guests) {
      const s = await fleet.state(g.name);
      assert.deepEqual(s, { state: 'running', reason: RUNNING_MIGRATED }, g.name);
    }
    assert.ok(!existsSync(migrationRecordPath(fleet.sb.listFile)), 'nothing is away any more');
  });
});

test('a peer that is down: every guest gets the local action (MIGRATE_FALLBACK=suspend), and start restores them', async () => {
  await withPeer({ plain: 2 }, async (fleet, peer) => {
    fleet.configure({ ON_SHUTDOWN: 'migrate', MIGRATE_URI: `'guest+unix:///system?socket=${peer.dir}/nobody-here'`, CONNECT_RETRIES: 0 });
    const stop = await runGuests(['stop', '--json'], fleet.sb.env);
    const stopped = parseResult(StopResult, stop);
    assert.equal(stop.exitCode, 0, stop.stderr);
    for (const g of stopped.uris[0]!.guests) {
      assert.deepEqual([g.action, g.finalAction, g.outcome, g.fallback], ['migrate', 'suspend', 'done', ['suspend']], g.name);
      assert.match(g.migrateError ?? '', /cannot connect to the destination/);
    }
    for (const g of fleet.guests) assert.deepEqual(await fleet.state(g.name), { state: 'shutoff', reason: SHUTOFF_SAVED });
    assert.match(fleet.listFile() ?? '', new RegExp(fleet.guests.map((g) => g.uuid).join(' ')));
    assert.ok(!existsSync(migrationRecordPath(fleet.sb.listFile)));
    const start = await runGuests(['start'], fleet.sb.env);
    assert.equal(start.exitCode, 0, start.stderr);
    for (const g of fleet.guests) assert.equal(((await fleet.state(g.name)) as { state: string }).state, 'running');
  });
});

test('evacuate NAME --to URI and return, on demand; --dry-run changes nothing', async () => {
  await withPeer({ plain: 2 }, async (fleet, peer, peerConn) => {
    fleet.configure({ CONNECT_RETRIES: 0 });
    const dry = await runGuests(['evacuate', '--dry-run', '--json', '--to', peer.uri], fleet.sb.env);
    const planned = parseResult(MigrateResult, dry);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.deepEqual(planned.uris[0]!.guests.map((g) => g.outcome), ['planned', 'planned']);
    assert.deepEqual(await names(peerConn), []);

    const none = await runGuests(['evacuate', 'plain1'], fleet.sb.env);
    assert.equal(none.exitCode, 2, 'no peer: a usage error');
    assert.match(none.stderr, /no peer to evacuate to/);

    const run = await runGuests(['evacuate', 'plain1', 'nosuch', '--to', peer.uri, '--json'], fleet.sb.env);
    const result = parseResult(MigrateResult, run);
    assert.equal(run.exitCode, 1, 'a named guest that is not there');
    assert.deepEqual(
      result.uris.flatMap((u) => u.guests).map((g) => [g.name, g.outcome]).sort(),
      [
        ['nosuch', 'missing'],
        ['plain1', 'done'],
      ],
    );
    assert.deepEqual(await names(peerConn), ['plain1']);
    assert.equal(((await fleet.state('plain2')) as { state: string }).state, 'running', 'the other guest stays');
    assert.equal(result.away, 1);

    const back = await runGuests(['return', '--json'], fleet.sb.env);
    const returned = parseResult(MigrateResult, back);
    assert.equal(back.exitCode, 0, back.stderr);
    assert.deepEqual(returned.uris[0]!.guests.map((g) => [g.name, g.outcome, g.migratedTo]), [['plain1', 'done', fleet.guestd.uri]]);
    assert.deepEqual(await names(peerConn), []);
    assert.deepEqual(await fleet.state('plain1'), { state: 'running', reason: RUNNING_MIGRATED });
    assert.equal(returned.away, 0);
  });
});

test('per-guest on-shutdown=migrate (policy): those guests go to the peer tier by tier, the others are saved here; start brings them back first', async () => {
  await withPeer({ plain: 3 }, async (fleet, peer, peerConn) => {
    // ON_SHUTDOWN stays suspend: only the policy asks for migration
    fleet.configure({ MIGRATE_URI: `'${peer.uri}'`, CONNECT_RETRIES: 0 });
    for (const [name, ...flags] of [
      ['plain1', '--on-shutdown', 'migrate', '--order', '1'],
      ['plain2', '--on-shutdown', 'migrate'],
    ]) {
      const set = await runGuests(['policy', 'set', name!, ...flags], fleet.sb.env);
      assert.equal(set.exitCode, 0, set.stderr);
    }
    const dry = parseResult(StopResult, await runGuests(['stop', '--dry-run', '--json'], fleet.sb.env));
    assert.deepEqual(
      dry.uris[0]!.guests.map((g) => [g.name, g.action, g.outcome]).sort(),
      [
        ['plain1', 'migrate', 'planned'],
        ['plain2', 'migrate', 'planned'],
        ['plain3', 'suspend', 'planned'],
      ],
    );

    const stop = await runGuests(['stop', '--json'], fleet.sb.env);
    const stopped = parseResult(StopResult, stop);
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.equal(stopped.action, 'suspend');
    const by = Object.fromEntries(stopped.uris[0]!.guests.map((g) => [g.name, g]));
    assert.deepEqual([by.plain1!.action, by.plain1!.outcome, by.plain1!.migratedTo, by.plain1!.tier], ['migrate', 'done', peer.uri, 1]);
    assert.deepEqual([by.plain2!.action, by.plain2!.outcome, by.plain2!.migratedTo, by.plain2!.tier], ['migrate', 'done', peer.uri, null]);
    assert.deepEqual([by.plain3!.action, by.plain3!.outcome, by.plain3!.migratedTo], ['suspend', 'done', undefined]);
    assert.ok(Date.parse(by.plain2!.ended!) <= Date.parse(by.plain1!.began!), 'the default tier stops first, then tier 1');
    assert.deepEqual(await names(peerConn), ['plain1', 'plain2']);
    assert.deepEqual(await fleet.state('plain3'), { state: 'shutoff', reason: SHUTOFF_SAVED });
    const plain3 = fleet.guests.find((g) => g.name === 'plain3')!;
    const list = fleet.listFile() ?? '';
    assert.ok(list.includes(plain3.uuid), list);
    for (const g of fleet.guests.filter((x) => x !== plain3)) assert.ok(!list.includes(g.uuid), `the list holds only the guest saved here: ${list}`);
    const record = JSON.parse(readFileSync(migrationRecordPath(fleet.sb.listFile), 'utf8')) as { guests: { name: string }[] };
    assert.deepEqual(record.guests.map((g) => g.name).sort(), ['plain1', 'plain2']);

    const start = await runGuests(['start', '--json'], fleet.sb.env);
    const started = parseResult(StartResult, start);
    assert.equal(start.exitCode, 0, start.stderr);
    const back = Object.fromEntries(started.uris.flatMap((u) => u.guests).map((g) => [g.name, g]));
    assert.deepEqual(Object.keys(back).sort(), ['plain1', 'plain2', 'plain3']);
    for (const n of ['plain1', 'plain2']) {
      assert.deepEqual([back[n]!.action, back[n]!.outcome], ['migrate', 'done'], n);
      assert.ok(Date.parse(back[n]!.ended!) <= Date.parse(back.plain3!.began!), `${n} came back before the tiers started`);
      assert.deepEqual(await fleet.state(n), { state: 'running', reason: RUNNING_MIGRATED }, n);
    }
    assert.deepEqual([back.plain3!.action, back.plain3!.outcome], ['start', 'done']);
    assert.deepEqual(await names(peerConn), []);
    // the policy travelled with the guest's definition, there and back
    const shown = parseResult(PolicyShowResult, await runGuests(['policy', 'show', 'plain1', '--json'], fleet.sb.env));
    assert.deepEqual(shown.uris[0]!.guests[0]!.policy['on-shutdown'], { value: 'migrate', source: 'metadata' });
  });
});
