// Process identity from /proc on real processes: a zombie has ended, a reused pid is another process; the run lock
// and the PID file judge their holders by it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { systemClock } from '../../../src/effects/clock.js';
import { parseCpuList } from '../../../src/effects/host-facts.js';
import { commandLine, isSameProcess, processStartTime, processStat, signalProcess } from '../../../src/effects/processes.js';
import { acquireRunLock } from '../../../src/effects/run-lock.js';
import { unrelated, zombie } from '../../helpers/processes.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lgt-proc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('process identity', () => {
  it('a live process is its pid and start time', () => {
    const start = processStartTime(process.pid);
    assert.ok(start !== null && /^\d+$/.test(start), String(start));
    assert.ok(isSameProcess(process.pid, start));
    assert.ok(!isSameProcess(process.pid, `${start}1`), 'another start time is another process');
    assert.ok(commandLine(process.pid)?.some((arg) => arg.endsWith('processes.test.js')), 'its command line names this test');
    assert.equal(processStat(-1), null);
    assert.equal(processStartTime(0), null);
    // the CPU it runs on (field 39): one of this host's
    const online = parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8').trim());
    assert.ok(online.includes(processStat(process.pid)!.lastCpu), `${processStat(process.pid)!.lastCpu} in ${online.join(',')}`);
  });

  it('a zombie has ended: no start time, not the same process, never signalled, no command line', async () => {
    const z = await zombie();
    try {
      const stat = processStat(z.pid);
      assert.equal(stat?.state, 'Z');
      assert.equal(processStartTime(z.pid), null);
      assert.ok(!isSameProcess(z.pid, stat!.startTime));
      assert.ok(!signalProcess(z.pid, stat!.startTime, 'SIGKILL'));
      assert.equal(commandLine(z.pid), null);
    } finally {
      z.release();
    }
  });

  it('a pid now held by another process is not signalled under an old start time', () => {
    const other = unrelated();
    try {
      assert.ok(!signalProcess(other.pid, '1', 'SIGKILL'));
      assert.ok(processStartTime(other.pid) !== null, 'the stranger lives on');
    } finally {
      other.release();
    }
  });
});

describe('the run lock judges its holder by identity', () => {
  it('a lock whose holder is a zombie is taken over at once', async () => {
    const z = await zombie();
    const file = path.join(dir, 'zombie.lock');
    try {
      writeFileSync(file, `${z.pid} ${processStat(z.pid)!.startTime}\n`);
      const told: number[] = [];
      // before: a zombie held the lock until LOCK_TIMEOUT, and the run gave up naming it
      const lock = await acquireRunLock(file, { waitMs: 2000, clock: systemClock, onWait: (pid) => told.push(pid) });
      assert.deepEqual(told, [], 'nobody to wait for');
      assert.equal(readFileSync(file, 'utf8').split(' ')[0], String(process.pid));
      await lock.release();
    } finally {
      z.release();
    }
  });
});
