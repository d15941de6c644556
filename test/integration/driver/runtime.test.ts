// The guest runtime process on its own, under faults around it: nothing but its own end may end it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_BEHAVIOR } from '../../../src/driver/process/xml/behavior.js';
import { LaunchError, launchGuest } from '../../../src/driver/process/launcher.js';
import { systemClock, type Clock } from '../../../src/effects/clock.js';
import { MonitorClient } from '../../../src/driver/process/monitor-client.js';
import { isSameProcess, processStartTime } from '../../../src/effects/processes.js';
import { waitFor } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gd-rt-'));
const started: number[] = [];
after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('guest runtime', () => {
  it('a log it cannot write (disk full) does not end the guest, not even when a save fails', async () => {
    const monitorPath = join(dir, 'full.sock');
    const { pid } = await launchGuest({
      name: 'full',
      uuid: '12345678-1234-1234-1234-123456789abc',
      memoryBytes: 1 << 20,
      monitorPath,
      behavior: DEFAULT_BEHAVIOR,
      logFile: '/dev/full', // every write: ENOSPC
      timeoutMs: 10_000,
    }, systemClock);
    started.push(pid);
    const startTime = processStartTime(pid)!;
    const monitor = await MonitorClient.connect(monitorPath, 5000);
    try {
      await assert.rejects(monitor.call('save', { file: join(dir, 'no-such-dir', 'full.save') }), /save to .* failed/);
      const status = await monitor.call('query-status');
      assert.equal(status.status, 'running', 'the guest runs on after its failed save');
      assert.ok(isSameProcess(pid, startTime));
    } finally {
      monitor.close();
    }
  });

  it('a runtime that ends before it is ready is reported with how it ended and its log', async () => {
    await assert.rejects(
      launchGuest(
        {
          name: 'early',
          uuid: '12345678-1234-1234-1234-123456789abd',
          memoryBytes: 1 << 20,
          monitorPath: join(dir, 'early.sock'),
          behavior: DEFAULT_BEHAVIOR,
          logFile: join(dir, 'early.log'),
          timeoutMs: 60_000,
          onSpawn: (pid) => process.kill(pid, 'SIGKILL'),
        },
        systemClock,
      ),
      (err: unknown) => {
        assert.ok(err instanceof LaunchError, String(err));
        assert.equal(err.errorClass, 'Exited');
        assert.match(err.message, /exited \(SIGKILL\) before it was ready/);
        return true;
      },
    );
  });

  it("waits for readiness on the clock it is given: a clock whose time is up ends the runtime at once", async () => {
    let pid = 0;
    const timeUp: Clock = { now: () => 0, bootedAt: () => 0, sleep: async () => undefined };
    await assert.rejects(
      launchGuest(
        {
          name: 'late',
          uuid: '12345678-1234-1234-1234-123456789abe',
          memoryBytes: 1 << 20,
          monitorPath: join(dir, 'late.sock'),
          behavior: DEFAULT_BEHAVIOR,
          logFile: join(dir, 'late.log'),
          timeoutMs: 30_000,
          onSpawn: (p) => (pid = p),
        },
        timeUp,
      ),
      (err: unknown) => err instanceof LaunchError && err.errorClass === 'Timeout',
    );
    await waitFor('the runtime to be killed', () => processStartTime(pid) === null);
  });
});
