import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDashedUuid, parseUuid, uuidFromBytes, uuidToBytes } from '../../../src/libvirt/uuid.js';

const U = '2f0d3ba5-b58f-44d1-98b3-ef4038d28c5a';

test('a UUID is read with or without its dashes, in either case, and given in the canonical form', () => {
  for (const text of [U, U.toUpperCase(), U.replace(/-/g, ''), '2F0D3BA5b58f44d1-98b3-EF4038D28C5A'])
    assert.equal(parseUuid(text), U, text);
});

test('what is no UUID is refused: wrong length, a dash out of place, other characters, surrounding spaces', () => {
  for (const text of ['', U.slice(1), `${U}0`, '2f0d3ba5-b58f-44d1-98b3-ef4038d28c5-a', U.replace('a', 'g'), ` ${U}`, `${U}\n`, 'web1'])
    assert.equal(parseUuid(text), null, JSON.stringify(text));
});

test('where only the dashed form is right (the list file, virsh output), the dashes are required', () => {
  assert.equal(parseDashedUuid(U.toUpperCase()), U);
  assert.equal(parseDashedUuid(U.replace(/-/g, '')), null);
  assert.equal(parseDashedUuid('2f0d3ba5b58f-44d1-98b3-ef4038d28c5a'), null);
});

test('the 16 bytes of a UUID and back', () => {
  const bytes = uuidToBytes(U.toUpperCase());
  assert.deepEqual(bytes, Buffer.from(U.replace(/-/g, ''), 'hex'));
  assert.equal(uuidFromBytes(bytes!), U);
  assert.equal(uuidToBytes('not-a-uuid'), null);
});
