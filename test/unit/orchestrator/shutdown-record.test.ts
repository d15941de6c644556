import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShutdownRecord, shutdownRecordPath } from '../../../src/orchestrator/shutdown-record.js';
import { memoryFiles } from '../../helpers/memory-files.js';

const A = '2f0d3ba5-b58f-44d1-98b3-ef4038d28c5a';
const B = '11111111-2222-3333-4444-555555555555';
const LIST = '/var/lib/libvirt/libvirt-guests';

const never = (err: unknown): never => assert.fail(String(err));

test('notes are written before the shutdown is asked, one line each, the latest per guest', async () => {
  const files = memoryFiles();
  const record = await ShutdownRecord.load(files, LIST, 0, never);
  await Promise.all([record.note('qemu:///system', { uuid: A, name: 'a', id: 3 }, 1000), record.note('qemu:///system', { uuid: B, name: 'b', id: 4 }, 1001)]);
  await record.note('qemu:///system', { uuid: A, name: 'a', id: 7 }, 2000);
  assert.equal(files.data.get(shutdownRecordPath(LIST)), `qemu:///system ${B} 4 1001\nqemu:///system ${A} 7 2000\n`);
  const again = await ShutdownRecord.load(files, LIST, 0, never);
  assert.deepEqual(again.find('qemu:///system', A), { uri: 'qemu:///system', uuid: A, id: 7, at: 2000 });
  assert.equal(again.has('qemu:///system'), true);
  assert.equal(again.find('lxc:///system', A), undefined);
});

test('notes from before the last boot are void; unreadable lines are skipped', async () => {
  const text = `qemu:///system ${A} 3 500\nqemu:///system ${B} 4 1500\ngarbage\nqemu:///system ${A} x 2000\n`;
  const record = await ShutdownRecord.load(memoryFiles({ [shutdownRecordPath(LIST)]: text }), LIST, 1000, never);
  assert.equal(record.find('qemu:///system', A), undefined);
  assert.deepEqual(record.find('qemu:///system', B)?.id, 4);
});

test('start keeps only the notes of guests still listed; the file goes with the last one', async () => {
  const files = memoryFiles({ [shutdownRecordPath(LIST)]: `qemu:///system ${A} 3 1500\nqemu:///system ${B} 4 1500\n` });
  const record = await ShutdownRecord.load(files, LIST, 0, never);
  await record.keepOnly([{ uri: 'qemu:///system', uuids: [B] }]);
  assert.equal(files.data.get(shutdownRecordPath(LIST)), `qemu:///system ${B} 4 1500\n`);
  await record.keepOnly([]);
  assert.equal(files.data.has(shutdownRecordPath(LIST)), false);
});

test('a record that cannot be written is reported once and never stops the work', async () => {
  const reported: unknown[] = [];
  const record = await ShutdownRecord.load(memoryFiles({}, true), LIST, 0, (err) => reported.push(err));
  await record.note('qemu:///system', { uuid: A, name: 'a', id: 3 }, 1);
  await record.note('qemu:///system', { uuid: B, name: 'b', id: 4 }, 2);
  assert.equal(reported.length, 1);
  assert.match(String(reported[0]), /disk full/);
});
