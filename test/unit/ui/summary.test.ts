// The stop summary counts each guest under what was done to it: a guest whose own policy chose another action than
// the run's (powered off, shut down, migrated) is not counted as suspended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestResult, MigrateResult, StopResult } from '../../../src/orchestrator/result.js';
import { renderMigrate, renderStop } from '../../../src/ui/summary.js';

function guest(name: string, action: GuestResult['action'], outcome: GuestResult['outcome']): GuestResult {
  return { uri: 'test:///x', uuid: `uuid-${name}`, name, action, finalAction: action, outcome, durationMs: 1, fallback: [] };
}

function stop(guests: GuestResult[]): StopResult {
  return {
    command: 'stop',
    action: 'suspend',
    exit: 0,
    dryRun: false,
    listFile: '/var/lib/libvirt/libvirt-guests',
    carriedOver: 0,
    list: [],
    deadlineExpired: false,
    tiers: [],
    durationMs: 10,
    uris: [{ uri: 'test:///x', reachable: true, guests } as StopResult['uris'][number]],
  };
}

test('guests done by their own action are counted under it, not under the run’s', () => {
  const text = renderStop(
    stop([
      guest('a', 'suspend', 'done'),
      guest('b', 'suspend', 'done'),
      guest('c', 'destroy', 'done'),
      guest('d', 'shutdown', 'done'),
      guest('e', 'none', 'skipped'),
    ]),
  );
  assert.equal(text.split('\n')[0], 'stop: 2 suspended, 1 powered off, 1 shut down, 1 skipped');
});

test('a run where every guest had the run’s action reads as before', () => {
  assert.equal(renderStop(stop([guest('a', 'suspend', 'done'), guest('b', 'suspend', 'failed')])).split('\n')[0], 'stop: 1 suspended, 1 failed');
});

test('dry runs: each guest’s own action; evacuate names the peer, return says it brings back', () => {
  const planned = stop([guest('a', 'suspend', 'planned'), { ...guest('b', 'destroy', 'planned'), tier: 2 }]);
  assert.deepEqual(renderStop({ ...planned, dryRun: true }).split('\n').slice(1), [
    'test:///x: would suspend a (uuid-a)',
    'test:///x: would power off (destroy) b (uuid-b) [tier 2]',
  ]);
  const moves = (command: 'evacuate' | 'return'): MigrateResult => ({
    command,
    exit: 0,
    dryRun: true,
    to: 'qemu+tls://peer/system',
    recordFile: '/var/lib/libvirt/libvirt-guests.migrated',
    away: 0,
    durationMs: 1,
    uris: [{ uri: 'test:///x', reachable: true, guests: [guest('m', 'migrate', 'planned')] }],
  });
  assert.equal(renderMigrate(moves('evacuate')).split('\n')[1], 'test:///x: would migrate to qemu+tls://peer/system m (uuid-m)');
  assert.equal(renderMigrate(moves('return')).split('\n')[1], 'test:///x: would bring back m (uuid-m)');
});
