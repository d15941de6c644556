// guestd -l: the TLS listener requires a client certificate signed by its CA and allowed by tls_allowed_dn_list,
// and confirms an accepted client with libvirt's byte, so that real virsh and our client both work over it.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openConnection } from '../../../src/connect/index.js';
import { RpcError } from '../../../src/rpc/errors.js';
import { encodeMessage } from '../../../src/rpc/message.js';
import { cleanupAllGuestd, type GuestdInstance } from '../../helpers/guestd.js';
import { makePki, startTlsGuestd, tlsVerdict, type Pki } from '../../helpers/pki.js';
import { virsh } from '../../helpers/virsh.js';

describe('guestd TLS listener', () => {
  let pki: Pki;
  let port: number;
  let gd: GuestdInstance;
  const uri = (client: string, host = '127.0.0.1'): string => `guest+tls://${host}:${port}/system?pkipath=${pki.pkipath(client)}`;
  before(async () => {
    pki = makePki({ admin: { subject: '/C=GB/O=Example/CN=admin' }, intruder: { subject: '/C=GB/O=Example/CN=intruder' } });
    ({ gd, port } = await startTlsGuestd(pki, { allowedDns: ['C=GB,O=Example,CN=admin'] }));
  });
  after(async () => {
    await cleanupAllGuestd();
    pki.remove();
  });

  it('real virsh connects over TLS, by address and by name', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const r = await virsh(uri('admin', host), 'list', '--all');
      assert.equal(r.code, 0, r.stderr);
      const h = await virsh(uri('admin', host), 'uri');
      assert.equal(h.stdout.trim(), `guest+tls://${host}:${port}/system?pkipath=${pki.pkipath('admin')}`);
    }
  });

  it('our client connects over TLS', async () => {
    const conn = await openConnection(uri('admin'), { backend: 'native' });
    assert.deepEqual(await conn.listGuests({ which: 'all' }), []);
    await conn.close();
  });

  it('confirms an allowed client and closes on one outside the DN list, which both clients report', async () => {
    assert.equal(await tlsVerdict(port, pki, 'admin'), 'confirmed');
    assert.match(await tlsVerdict(port, pki, 'intruder'), /^refused/);
    const err = await openConnection(uri('intruder'), { backend: 'native' }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
    assert.match(err.message, /refused our certificate/);
    const r = await virsh(uri('intruder'), 'list');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TLS confirmation|server verification/);
    assert.match(gd.stderr(), /not in tls_allowed_dn_list/);
  });

  it('never offers plain TCP on the TLS port', async () => {
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(encodeMessage({ prog: 0x20008086, vers: 1, proc: 66, type: 0, serial: 0, status: 0 }));
      });
      const timer = setTimeout(() => (s.destroy(), resolve('timeout')), 3000);
      s.on('data', (d: Buffer) => {
        // a TLS alert, never an RPC reply
        if (d.length >= 28 && d.readUInt32BE(4) === 0x20008086) resolve('rpc reply');
      });
      s.on('close', () => {
        clearTimeout(timer);
        resolve('closed');
      });
      s.on('error', () => undefined);
    });
    assert.notEqual(answer, 'rpc reply');
  });
});
