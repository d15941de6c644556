// guestd's processing limits, after libvirtd's (max_clients, max_queued_clients, max_anonymous_clients,
// max_client_requests) and its input budget (max_buffered_input): what a client, or many, can make the daemon hold,
// and that everyone else is still served meanwhile.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { DEFAULT_GUESTD_CONFIG } from '../../../src/config/guestd-conf.js';
import { RemoteClient } from '../../../src/remote/client.js';
import { PROC } from '../../../src/remote/protocol.js';
import { INPUT_ALLOWANCE } from '../../../src/rpc/input-budget.js';
import { connectUnix } from '../../../src/rpc/transport.js';
import { cleanupAllGuestd, startGuestd, waitFor } from '../../helpers/guestd.js';
import { MiB, mib, processMemory } from '../../helpers/memory.js';
import { makePki, startTlsGuestd, tlsVerdict } from '../../helpers/pki.js';
import { holdPartialFrame, RawClient } from '../../helpers/raw-rpc.js';
import { guestctl, guestXml } from '../../helpers/virsh.js';

const FRAME = 32 * MiB + 4; // libvirt's largest message

describe('guestd limits', () => {
  afterEach(cleanupAllGuestd);
  after(cleanupAllGuestd);

  it('24 connections holding part of a 32 MiB frame on the read-only socket: memory bounded, others served, given back', async () => {
    // log_level 1: the daemon says when it has let go of a connection
    const gd = await startGuestd({ config: 'log_level = 1' });
    const pid = gd.child.pid!;
    const gone = (): number => gd.stderr().split('\n').filter((l) => l.includes('client on the ro socket gone')).length;
    const warm = await RawClient.connect(gd.roSocket);
    await warm.open(1);
    warm.close();
    await waitFor('the warm-up client gone', () => gone() === 1);
    const base = processMemory(pid).rss;
    // what the budget allows: the budget, each connection's allowance and one read beyond it, and room for the
    // garbage V8 lets pile up between two collections
    const bound = base + DEFAULT_GUESTD_CONFIG.maxBufferedInput + 24 * 2 * INPUT_ALLOWANCE + 32 * MiB;
    let sentTotal = 0;
    for (let attack = 1; attack <= 3; attack++) {
      const before = gone();
      const held = await Promise.all(Array.from({ length: 24 }, () => holdPartialFrame(gd.roSocket, FRAME, 16 * MiB)));
      const during = processMemory(pid);
      const sent = held.reduce((n, h) => n + h.sent, 0);
      sentTotal += sent;
      console.log(`# attack ${attack}: ${mib(sent)} MiB sent, rss ${mib(during.rss)} MiB (base ${mib(base)}, bound ${mib(bound)})`);
      assert.equal(gd.child.exitCode, null, 'guestd is alive');
      assert.ok(sent > DEFAULT_GUESTD_CONFIG.maxBufferedInput, 'the budget was used up');
      assert.ok(during.hwm <= bound, `VmHWM ${mib(during.hwm)} MiB is over ${mib(bound)} MiB`);
      // another client of the same socket is served meanwhile
      const other = await RawClient.connect(gd.roSocket);
      await other.open(1);
      const listed = await other.call(PROC.CONNECT_LIST_ALL_DOMAINS.number, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]));
      assert.equal(listed.header.status, 0);
      other.close();
      for (const h of held) h.socket.destroy();
      // a connection not being read learns that its peer left at its next keepalive PING (5 s)
      await waitFor('the daemon to let go of the attackers', () => gone() >= before + 25, 30_000);
    }
    // the attacks sent far more than the budget between them: what each made the daemon hold was given back
    const end = processMemory(pid);
    console.log(`# after 3 attacks (${mib(sentTotal)} MiB): rss ${mib(end.rss)} MiB, high-water mark ${mib(end.hwm)} MiB`);
    assert.ok(end.hwm <= bound, `VmHWM ${mib(end.hwm)} MiB is over ${mib(bound)} MiB`);
    assert.ok(end.rss <= bound, `VmRSS ${mib(end.rss)} MiB is over ${mib(bound)} MiB`);
  });

  it('max_clients: further connections wait unread for a free place; beyond max_queued_clients they are closed', async () => {
    const gd = await startGuestd({ config: 'max_clients = 2\nmax_queued_clients = 1' });
    const served = [await RawClient.connect(gd.roSocket), await RawClient.connect(gd.roSocket)];
    for (const c of served) assert.equal((await c.call(66)).header.status, 0);
    const waiting = await RawClient.connect(gd.roSocket);
    let answered = false;
    const reply = waiting.call(66, Buffer.alloc(0), undefined, 30_000).then((m) => ((answered = true), m));
    const refused = await RawClient.connect(gd.roSocket);
    await refused.closed;
    // one more round trip on a served connection: the waiting one is still not answered
    assert.equal((await served[1]!.call(66)).header.status, 0);
    assert.equal(answered, false, 'a connection beyond max_clients was served');
    served[0]!.close();
    assert.equal((await reply).header.status, 0);
    await waitFor('the refusal in the log', () => /too many clients: 1 connection\(s\) closed unserved/.test(gd.stderr()));
    for (const c of [served[1]!, waiting]) c.close();
  });

  it('max_client_requests: a call beyond the limit waits for a running one to finish', async () => {
    const gd = await startGuestd({ config: 'max_client_requests = 2' });
    for (const name of ['slow1', 'slow2']) {
      const file = path.join(gd.dir, `${name}.xml`);
      writeFileSync(file, guestXml(name, { 'save-mib-per-second': 8 }, 8));
      for (const step of [['define', file], ['start', name]]) {
        const r = await guestctl(gd.uri, ...step);
        assert.equal(r.code, 0, r.stderr);
      }
    }
    const client = new RemoteClient(await connectUnix(gd.rwSocket));
    await client.call(PROC.CONNECT_OPEN, { name: null, flags: 0 });
    const order: string[] = [];
    const saves = ['slow1', 'slow2'].map(async (name) => {
      const { dom } = await client.call(PROC.DOMAIN_LOOKUP_BY_NAME, { name });
      return dom;
    });
    const doms = await Promise.all(saves);
    const running = doms.map((dom) => client.call(PROC.DOMAIN_MANAGED_SAVE, { dom, flags: 0 }).then(() => order.push(`saved ${dom.name}`)));
    const third = client.call(PROC.CONNECT_GET_HOSTNAME).then(() => order.push('hostname'));
    await Promise.all([...running, third]);
    assert.notEqual(order[0], 'hostname', `the third call ran beside the two saves: ${order.join(', ')}`);
    await client.rpc.close();
  });

  it('max_anonymous_clients: TLS connections beyond the limit still in their handshake are closed at once', async () => {
    const pki = makePki({ admin: { subject: '/CN=admin' } });
    try {
      const { gd, port } = await startTlsGuestd(pki, { config: 'max_anonymous_clients = 2' });
      const silent = await Promise.all(
        [1, 2].map(
          () =>
            new Promise<net.Socket>((resolve, reject) => {
              const s = net.connect(port, '127.0.0.1', () => resolve(s));
              s.on('error', reject);
            }),
        ),
      );
      assert.match(await tlsVerdict(port, pki, 'admin'), /^refused/);
      await waitFor('the refusal in the log', () => /handshakes in progress already \(max_anonymous_clients\)/.test(gd.stderr()));
      for (const s of silent) s.destroy();
      let verdict = '';
      for (let i = 0; i < 50 && verdict !== 'confirmed'; i++) verdict = await tlsVerdict(port, pki, 'admin');
      assert.equal(verdict, 'confirmed', 'served once the silent handshakes are gone');
    } finally {
      pki.remove();
    }
  });
});
