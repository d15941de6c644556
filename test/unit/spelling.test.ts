import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nearestWord } from '../../src/spelling.js';

test('the nearest known word: one edit per three letters, a swap of neighbours is one edit, else none', () => {
  const commands = ['start', 'status', 'stop', 'list', 'uri'];
  assert.equal(nearestWord('stauts', commands), 'status');
  assert.equal(nearestWord('lst', commands), 'list');
  assert.equal(nearestWord('stpo', commands), 'stop');
  assert.equal(nearestWord('foo', commands), undefined, 'three letters allow one edit');
  assert.equal(nearestWord('frobnicate', commands), undefined);
  assert.equal(nearestWord('SHUTDOWN_TIMOUT', ['SHUTDOWN_TIMEOUT', 'ON_SHUTDOWN'], 3), 'SHUTDOWN_TIMEOUT');
  assert.equal(nearestWord('stat', ['start', 'stop'], 1), 'start', 'the first of equally near words');
});
