// Which command lines bin/run.js answers without oclif (src/cli/quick.ts): a plain `status` with its own flags only;
// every other word, a repeated flag or a missing value leaves the command line to oclif.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainStatusFlags } from '../../../src/cli/quick.js';

test('a plain status with its own flags, in both spellings of a value', () => {
  assert.deepEqual(plainStatusFlags(['status']), { json: false });
  assert.deepEqual(plainStatusFlags(['status', '--json', '--config', '/etc/x', '--list-file=/l', '--lock-file', 'k']), {
    json: true,
    config: '/etc/x',
    'list-file': '/l',
    'lock-file': 'k',
  });
});

test('anything else is for oclif', () => {
  for (const argv of [
    [],
    ['stop'],
    ['statu'],
    ['--help'],
    ['status', '--help'],
    ['status', '-h'],
    ['status', '--dry-run'],
    ['status', 'extra'],
    ['status', '--config'],
    ['status', '--config', '--json'],
    ['status', '--config='],
    ['status', '--json=yes'],
    ['status', '--json', '--json'],
    ['status', '--config', 'a', '--config=b'],
    ['status', '--', '--json'],
  ]) {
    assert.equal(plainStatusFlags(argv), undefined, argv.join(' '));
  }
});
