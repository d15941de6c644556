import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resultJsonSchema } from '../../../src/orchestrator/result.js';
import { repoPath } from '../../helpers/repo.js';
import { resultValidator } from '../../helpers/result-schema.js';

test('the checked-in JSON schema is the one derived from the result description', () => {
  const checkedIn = JSON.parse(readFileSync(repoPath('src/orchestrator/result.schema.json'), 'utf8'));
  assert.deepEqual(checkedIn, JSON.parse(JSON.stringify(resultJsonSchema())), 'run: npm run gen');
});

test('the schema accepts a real-shaped result and rejects a broken one', () => {
  const validate = resultValidator();
  const good = {
    command: 'stop',
    action: 'suspend',
    exit: 0,
    dryRun: false,
    listFile: '/var/lib/libvirt/libvirt-guests',
    carriedOver: 0,
    list: [{ uri: 'qemu:///system', uuids: ['u'] }],
    deadlineExpired: false,
    tiers: [{ order: null, guests: 1, budgetMs: null, usedMs: 12 }],
    durationMs: 12,
    uris: [
      {
        uri: 'qemu:///system',
        reachable: true,
        backend: 'native',
        guests: [
          { uri: 'qemu:///system', uuid: 'u', name: 'n', action: 'suspend', finalAction: 'suspend', outcome: 'done', durationMs: 3, bytes: 10, fallback: [] },
        ],
      },
    ],
  };
  assert.equal(validate(good), true, JSON.stringify(validate.errors));
  assert.equal(validate({ ...good, exit: 4 }), false);
  assert.equal(validate({ ...good, uris: [{ ...good.uris[0], guests: [{ ...good.uris[0]!.guests[0], outcome: 'exploded' }] }] }), false);
});
