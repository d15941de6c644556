// The daemon's side of a guest monitor must survive the guest going away in any manner: a guest that dies with our
// request unread resets the connection (ECONNRESET), which must end that monitor (pending calls rejected, 'close'
// emitted) and never the daemon.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MonitorClient } from '../../../src/driver/process/monitor-client.js';

const dir = mkdtempSync(join(tmpdir(), 'gd-monc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('monitor client', () => {
  it('a monitor reset with our request unread ends that monitor, not the process', async () => {
    const path = join(dir, 'reset.sock');
    const peers: net.Socket[] = [];
    // paused: the guest never reads what the daemon sends
    const guest = net.createServer({ pauseOnConnect: true }, (s) => {
      peers.push(s);
      s.on('error', () => undefined);
      s.write(`${JSON.stringify({ greeting: { name: 'g', uuid: 'u', pid: 1, status: 'running', restored: false, save: null } })}\n`);
    });
    await new Promise<void>((resolve) => guest.listen(path, resolve));
    try {
      const client = await MonitorClient.connect(path, 2000);
      const closed = new Promise<void>((resolve) => client.once('close', resolve));
      const pending = client.call('query-status');
      await new Promise((resolve) => setImmediate(resolve)); // the request is in the guest's receive queue
      for (const p of peers) p.destroy(); // the guest dies with it unread
      await assert.rejects(pending, /monitor closed/);
      await closed;
      assert.equal(client.closed, true);
    } finally {
      guest.close();
    }
  });
});
