// openNative over TLS with client certificates (libvirt's tls transport) against our server core, including
// libvirt's confirmation byte: the server writes 0x01 once it accepts the client's certificate, and the client
// sends nothing before it has read it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { after, afterEach, before, describe, it } from 'node:test';
import { openNative } from '../../../src/connect/native.js';
import { buildRemoteDispatch } from '../../../src/remote/dispatch.js';
import { RpcError } from '../../../src/rpc/errors.js';
import { RpcServer } from '../../../src/rpc/server.js';
import { sendTlsConfirmation } from '../../../src/rpc/transport.js';
import { makePki, type Pki } from '../../helpers/pki.js';

let pki: Pki;
let server: RpcServer<Record<string, never>>;
const listeners: tls.Server[] = [];

/** what the TLS server does with a verified client: confirm and serve (libvirt), or something else */
type OnSecure = (socket: tls.TLSSocket) => void;
const serve: OnSecure = (socket) => {
  sendTlsConfirmation(socket);
  server.accept(socket);
};

async function listen(onSecure: OnSecure): Promise<number> {
  const listener = tls.createServer(
    { ca: readFileSync(pki.caFile), cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), requestCert: true, rejectUnauthorized: true },
    onSecure,
  );
  listeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return (listener.address() as { port: number }).port;
}

before(() => {
  pki = makePki({ client: { subject: '/CN=client' } });
  server = new RpcServer<Record<string, never>>({ createState: () => ({}) }).addProgram(
    buildRemoteDispatch({
      AUTH_LIST: () => ({ types: [0] }),
      CONNECT_SUPPORTS_FEATURE: () => ({ supported: 1 }),
      CONNECT_OPEN: () => undefined,
      CONNECT_CLOSE: () => undefined,
      CONNECT_GET_HOSTNAME: () => ({ hostname: 'tls-host' }),
      CONNECT_LIST_ALL_DOMAINS: () => ({ domains: [], ret: 0 }),
    }),
  );
});

afterEach(async () => {
  await server.close();
  await Promise.all(listeners.splice(0).map((l) => new Promise((r) => l.close(r))));
});

after(() => pki.remove());

const open = (host: string, port: number, files: { caFile?: string; certFile?: string; connectTimeoutMs?: number } = {}) =>
  openNative(
    {
      original: `guest+tls://${host}/system`,
      remoteName: 'guest:///system',
      target: {
        transport: 'tls',
        host,
        port,
        caFile: files.caFile ?? `${pki.pkipath('client')}/cacert.pem`,
        certFile: files.certFile ?? `${pki.pkipath('client')}/clientcert.pem`,
        keyFile: `${pki.pkipath('client')}/clientkey.pem`,
      },
      readonly: false,
    },
    // a client that misreads the stream fails in bounded time instead of hanging the test
    { callTimeoutMs: 5000, ...(files.connectTimeoutMs !== undefined ? { connectTimeoutMs: files.connectTimeoutMs } : {}) },
  );

describe('TLS transport', () => {
  it('connects with a client certificate, by name and by IP address', async () => {
    const port = await listen(serve);
    for (const host of ['localhost', '127.0.0.1']) {
      const c = await open(host, port);
      assert.deepEqual(await c.listGuests({ which: 'all' }), []);
      await c.close();
    }
  });

  it('sends nothing before the server confirmed the TLS session, then goes on', async () => {
    const early: Buffer[] = [];
    const port = await listen((socket) => {
      const keep = (chunk: Buffer): void => {
        early.push(chunk);
      };
      socket.on('data', keep);
      // libvirtd confirms only after its own checks: take a while, and see whether the client jumped ahead
      setTimeout(() => {
        socket.off('data', keep);
        socket.pause();
        if (early.length > 0) socket.unshift(Buffer.concat(early));
        serve(socket);
      }, 300);
    });
    const c = await open('127.0.0.1', port);
    assert.equal(Buffer.concat(early).length, 0, 'the client wrote before the confirmation byte');
    assert.deepEqual(await c.listGuests({ which: 'all' }), []);
    await c.close();
  });

  it('a server that closes instead of confirming (libvirt refusing our certificate) is a typed connect error', async () => {
    const port = await listen((socket) => socket.end());
    const err = await open('127.0.0.1', port).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
    assert.match(err.message, /refused our certificate/);
    assert.match(err.hint ?? '', /tls_allowed_dn_list/);
  });

  it('a server that sends something other than the confirmation byte is a typed connect error', async () => {
    const port = await listen((socket) => socket.write('hello'));
    const err = await open('127.0.0.1', port).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
    assert.match(err.message, /not a libvirt TLS server: it sent 0x68/);
  });

  it('a server that never confirms: the connect timeout ends the wait', async () => {
    const port = await listen(() => undefined);
    const err = await open('127.0.0.1', port, { connectTimeoutMs: 500 }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
    assert.match(err.hint ?? '', /never confirmed/);
  });

  it('a server certificate from another CA is a typed connect error', async () => {
    const port = await listen(serve);
    const err = await open('localhost', port, { caFile: pki.serverCert }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
  });

  it('an unreadable certificate file is a typed connect error with a hint', async () => {
    const port = await listen(serve);
    const err = await open('localhost', port, { certFile: `${pki.dir}/missing.pem` }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
    assert.match(err.hint ?? '', /readable/);
  });
});
