// The guest's monitor server must outlive any control connection: a client that resets the connection (closes with
// the greeting still unread, which the kernel reports to the runtime as ECONNRESET) must not take the guest process
// down, and the next client is served as before.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MonitorServer } from '../../../src/guest/monitor-server.js';
import { MonitorClient } from '../../../src/driver/process/monitor-client.js';
import { resetConnection } from '../../helpers/sockets.js';

const dir = mkdtempSync(join(tmpdir(), 'gd-mon-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function server(path: string): MonitorServer {
  return new MonitorServer(
    path,
    () => ({ greeting: { name: 'g', uuid: 'u', pid: process.pid, status: 'running', restored: false, paused: false, save: null } }),
    async (cmd) => ({ cmd }),
    () => undefined,
  );
}

describe('guest monitor server', () => {
  it('survives connections reset with unread data, and serves the next client', async () => {
    const path = join(dir, 'reset.sock');
    const mon = server(path);
    await mon.listen();
    try {
      for (let i = 0; i < 5; i++) await resetConnection(path);
      const client = await MonitorClient.connect(path, 2000);
      assert.deepEqual(await client.call('query-status'), { cmd: 'query-status' });
      client.close();
    } finally {
      mon.closeSync();
    }
  });

});
