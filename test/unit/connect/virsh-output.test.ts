import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseDominfo, parseDomstate, parseDomtime, parseJobInfo, parseLifecycleLine, parseListTable, parseSize,
  parseUuidIdNameList, VirshOutputError,
} from '../../../src/connect/virsh-output.js';

// Captured from virsh 9.0 against libvirtd 9.0 (LC_ALL=C) during a 352 MiB managed save.
const JOBINFO_RUNNING = `Job type:         Unbounded   
Operation:        Save        
Time elapsed:     352          ms
Data processed:   307.110 MiB
Data remaining:   0.000 B
Data total:       352.508 MiB
Memory processed: 307.110 MiB
Memory remaining: 0.000 B
Memory total:     352.508 MiB
Memory bandwidth: 1000.111 MiB/s
Dirty rate:       0            pages/s
Page size:        4096         bytes
Iteration:        3           
Expected downtime: 300          ms
`;

describe('domjobinfo', () => {
  it('parses a running save into bytes', () => {
    assert.deepEqual(parseJobInfo(JOBINFO_RUNNING), {
      type: 'unbounded',
      dataProcessed: Math.round(307.11 * 1024 * 1024),
      dataRemaining: 0,
      dataTotal: Math.round(352.508 * 1024 * 1024),
      timeElapsedMs: 352,
    });
  });

  it('parses an idle guest and a finished job', () => {
    assert.deepEqual(parseJobInfo('Job type:         None        \n'), { type: 'none' });
    assert.deepEqual(parseJobInfo('Job type:         Completed   \n'), { type: 'completed' });
    assert.equal(parseJobInfo('Job type:         Bounded\nData processed: 1.000 GiB\n').dataProcessed, 1024 ** 3);
  });

  it('refuses output without a job type', () => {
    assert.throws(() => parseJobInfo('nonsense'), VirshOutputError);
  });

  it('converts every unit virsh prints', () => {
    assert.equal(parseSize('12 B'), 12);
    assert.equal(parseSize('1.500 KiB'), 1536);
    assert.equal(parseSize('2.000 MiB'), 2 * 1024 ** 2);
    assert.equal(parseSize('0.250 TiB'), 0.25 * 1024 ** 4);
    assert.throws(() => parseSize('3 MB'), VirshOutputError);
  });
});

describe('list', () => {
  it('parses uuid/id/name lines, names with spaces, inactive ids', () => {
    const out = 'f846bbf7-ed89-4613-ad55-7364c218c20d 5 lgt-acpi-1\n0A6C1E2B-6A51-4a0e-9b5c-1b5b8a0f0a11 - my guest\n\n';
    assert.deepEqual(parseUuidIdNameList(out), [
      { uuid: 'f846bbf7-ed89-4613-ad55-7364c218c20d', id: 5, name: 'lgt-acpi-1' },
      { uuid: '0a6c1e2b-6a51-4a0e-9b5c-1b5b8a0f0a11', id: -1, name: 'my guest' },
    ]);
    assert.throws(() => parseUuidIdNameList('garbage line\n'), VirshOutputError);
    // hex digits and dashes that do not make a UUID (a dash out of place) are not taken as one
    assert.throws(() => parseUuidIdNameList('f846bbf7-ed89-4613-ad55-7364c218c2-d 5 x\n'), VirshOutputError);
  });

  it('parses the table with every state word', () => {
    const out = ' 5    lgt-acpi-1   running\n -    my guest     shut off\n 7    x            in shutdown\n 8    y            paused\n 9    z            idle\n';
    assert.deepEqual(parseListTable(out), [
      { id: 5, name: 'lgt-acpi-1', state: 'running' },
      { id: -1, name: 'my guest', state: 'shutoff' },
      { id: 7, name: 'x', state: 'shutdown' },
      { id: 8, name: 'y', state: 'paused' },
      { id: 9, name: 'z', state: 'blocked' },
    ]);
  });
});

describe('domstate, dominfo, domtime', () => {
  it('maps state and reason words to libvirt numbers', () => {
    assert.deepEqual(parseDomstate('shut off (saved)\n'), { state: 'shutoff', reason: 5 });
    assert.deepEqual(parseDomstate('running (booted)'), { state: 'running', reason: 1 });
    assert.deepEqual(parseDomstate('running (restored)'), { state: 'running', reason: 3 });
    assert.deepEqual(parseDomstate('paused (user)'), { state: 'paused', reason: 1 });
    assert.deepEqual(parseDomstate('shut off'), { state: 'shutoff', reason: 0 });
    assert.throws(() => parseDomstate('flying (high)'), VirshOutputError);
  });

  it('parses dominfo', () => {
    const out = `Id:             -\nName:           lgt-acpi-1\nUUID:           F846BBF7-ed89-4613-ad55-7364c218c20d\nOS Type:        hvm\nState:          shut off\nPersistent:     yes\nAutostart:      disable\nManaged save:   yes\nSecurity model: none\n`;
    assert.deepEqual(parseDominfo(out), {
      uuid: 'f846bbf7-ed89-4613-ad55-7364c218c20d', name: 'lgt-acpi-1', id: -1, state: 'shutoff', persistent: true, managedSave: true,
    });
    assert.equal(parseDominfo(out.replace('Id:             -', 'Id:             12')).id, 12);
  });

  it('parses domtime', () => {
    assert.deepEqual(parseDomtime('Time: 1795307167\n'), { seconds: 1795307167, nseconds: 0 });
  });
});

describe('event lines', () => {
  it('maps lifecycle words to event and detail numbers', () => {
    assert.deepEqual(parseLifecycleLine("event 'lifecycle' for domain 'lgt-acpi-1': Stopped Saved"), { name: 'lgt-acpi-1', kind: 'stopped', event: 5, detail: 4 });
    assert.deepEqual(parseLifecycleLine("event 'lifecycle' for domain 'a': Started Booted"), { name: 'a', kind: 'started', event: 2, detail: 0 });
    assert.deepEqual(parseLifecycleLine("event 'lifecycle' for domain 'a': Suspended Paused"), { name: 'a', kind: 'suspended', event: 3, detail: 0 });
    assert.deepEqual(parseLifecycleLine("event 'lifecycle' for domain 'a': Shutdown Finished after host request"), { name: 'a', kind: 'shutdown', event: 6, detail: 2 });
    assert.deepEqual(parseLifecycleLine("2026-11-22 00:26:03.244+0000: event 'lifecycle' for domain 'x': y': Resumed Unpaused"), { name: "x': y", kind: 'resumed', event: 4, detail: 0 });
  });

  it('ignores other lines', () => {
    assert.equal(parseLifecycleLine('events received: 3'), null);
    assert.equal(parseLifecycleLine("event 'reboot' for domain 'a'"), null);
  });
});
