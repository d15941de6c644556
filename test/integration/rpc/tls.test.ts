// openNative over TLS with client certificates (libvirt's tls transport) against our server core.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { openNative } from '../../../src/connect/native.js';
import { buildRemoteDispatch } from '../../../src/remote/dispatch.js';
import { RpcError } from '../../../src/rpc/errors.js';
import { RpcServer } from '../../../src/rpc/server.js';

let dir: string;
let listener: tls.Server;
let server: RpcServer<Record<string, never>>;
let port = 0;
const file = (n: string): string => path.join(dir, n);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rpc-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who === 'server' ? 'localhost' : 'client'}`, '-keyout', `${who}.key`, '-out', `${who}.csr`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', `${who}.pem`);
  }
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
  listener = tls.createServer(
    {
      ca: readFileSync(file('ca.pem')),
      cert: readFileSync(file('server.pem')),
      key: readFileSync(file('server.key')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (s) => server.accept(s),
  );
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
});

after(async () => {
  await server.close();
  await new Promise((r) => listener.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const target = (host: string, certFile = file('client.pem')) => ({
  transport: 'tls' as const,
  host,
  port,
  caFile: file('ca.pem'),
  certFile,
  keyFile: file('client.key'),
});

describe('TLS transport', () => {
  it('connects with a client certificate, by name and by IP address', async () => {
    for (const host of ['localhost', '127.0.0.1']) {
      const c = await openNative({ original: `guest+tls://${host}/system`, remoteName: 'guest:///system', target: target(host), readonly: false });
      assert.deepEqual(await c.listGuests({ which: 'all' }), []);
      await c.close();
    }
  });

  it('a server certificate from another CA is a typed connect error', async () => {
    const err = await openNative({
      original: 'x',
      remoteName: 'x',
      target: { ...target('localhost'), caFile: file('server.pem') },
      readonly: false,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
  });

  it('an unreadable certificate file is a typed connect error with a hint', async () => {
    const err = await openNative({ original: 'x', remoteName: 'x', target: target('localhost', file('missing.pem')), readonly: false }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof RpcError && err.failure === 'connect', String(err));
    assert.match(err.hint ?? '', /readable/);
  });
});
