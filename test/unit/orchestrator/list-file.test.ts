import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatListFile, mergeLists, parseListFile } from '../../../src/orchestrator/list-file.js';
import { StateFileError } from '../../../src/errors.js';

const A = '2f0d3ba5-b58f-44d1-98b3-ef4038d28c5a';
const B = '11111111-2222-3333-4444-555555555555';
const C = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

test("reads the original's format: URI then UUIDs, one line per URI", () => {
  const text = `qemu:///system ${A} ${B}\ndefault\t${C.toUpperCase()}\n\nguest+unix:///system?socket=/run/s\n`;
  assert.deepEqual(parseListFile(text, 'l'), [
    { uri: 'qemu:///system', uuids: [A, B] },
    { uri: 'default', uuids: [C] },
    { uri: 'guest+unix:///system?socket=/run/s', uuids: [] },
  ]);
});

test('writes exactly what the original writes, and round-trips', () => {
  const entries = [
    { uri: 'qemu:///system', uuids: [A, B] },
    { uri: 'lxc:///system', uuids: [] },
    { uri: 'default', uuids: [C] },
  ];
  const text = formatListFile(entries);
  assert.equal(text, `qemu:///system ${A} ${B}\ndefault ${C}\n`);
  assert.deepEqual(parseListFile(text, 'l'), [entries[0], entries[2]]);
});

test('a malformed line is an error naming the line', () => {
  for (const [text, line, what] of [
    [`qemu:///system ${A}\nqemu:///system not-a-uuid\n`, 2, /not-a-uuid.*not a guest UUID/],
    [`\n\n${A} ${B}\n`, 3, /is not a libvirt URI/],
  ] as const) {
    assert.throws(
      () => parseListFile(text, '/var/lib/libvirt/libvirt-guests'),
      (e: unknown) =>
        e instanceof StateFileError && e.file === `/var/lib/libvirt/libvirt-guests:${line}` && what.test(e.message) && /kept/.test(e.hint ?? ''),
    );
  }
});

test('merging keeps order per URI and drops duplicates', () => {
  assert.deepEqual(
    mergeLists([{ uri: 'a://', uuids: [A, B] }], [{ uri: 'b://', uuids: [C] }, { uri: 'a://', uuids: [B, C] }]),
    [
      { uri: 'a://', uuids: [A, B, C] },
      { uri: 'b://', uuids: [C] },
    ],
  );
});
