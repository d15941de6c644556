// Our native client against a real libvirtd over TLS (certificates made here, a separate libvirtd instance: see
// tls-libvirtd.ts). libvirtd confirms an accepted client with one byte before any RPC, and closes the connection
// of a client whose DN it does not allow: our client must read the one and report the other.
// Skips only when libvirtd cannot be started here, and never when CI=true.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openNative } from '../../src/connect/native.js';
import { hostEffects } from '../../src/connect/host-effects.js';
import { resolveUri } from '../../src/connect/resolve.js';
import { RpcError } from '../../src/rpc/errors.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { virsh } from '../helpers/virsh.js';
import { missingTlsLibvirtd, startTlsLibvirtd, type TlsLibvirtd } from './tls-libvirtd.js';

const missing = missingTlsLibvirtd();
const inCi = process.env.CI === 'true';
if (missing && !inCi) console.log(`# skipping the TLS tests against real libvirtd: ${missing}`);

// a reply that never comes (a client misreading the stream) fails the test instead of hanging it
const open = (uri: string) => openNative(resolveUri(uri, { readonly: false }, hostEffects()), { callTimeoutMs: 10_000 });

describe('native client → real libvirtd over TLS', { skip: missing && !inCi ? missing : false }, () => {
  let pki: Pki;
  let libvirtd: TlsLibvirtd;
  before(async () => {
    if (missing) throw new Error(`CI=true, so libvirtd must be startable here: ${missing}`);
    pki = makePki({ admin: { subject: '/C=GB/O=Example/CN=admin' }, intruder: { subject: '/C=GB/O=Example/CN=intruder' } });
    libvirtd = await startTlsLibvirtd(pki, { allowedDns: ['C=GB,O=Example,CN=admin', 'CN=admin,O=Example,C=GB'] });
  });
  after(async () => {
    await libvirtd?.stop();
    pki?.remove();
  });

  it('opens the test driver, lists its domain and closes', async () => {
    const conn = await open(libvirtd.uri(pki.pkipath('admin')));
    const guests = await conn.listGuests({ which: 'all' });
    assert.deepEqual(
      guests.map((g) => [g.name, g.state]),
      [['test', 'running']],
    );
    await conn.close();
  });

  it('agrees with real virsh on the same daemon', async () => {
    const r = await virsh(libvirtd.uri(pki.pkipath('admin')), 'list', '--all', '--name');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'test');
  });

  it('a certificate outside tls_allowed_dn_list: libvirtd closes, our client says it refused our certificate', async () => {
    const err = await open(libvirtd.uri(pki.pkipath('intruder'))).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
    assert.match(err.message, /refused our certificate/);
  });
});
