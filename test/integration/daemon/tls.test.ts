// guestd -l: the TLS listener requires a client certificate signed by its CA (certificates made with openssl here).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { encodeMessage, FrameDecoder } from '../../../src/rpc/message.js';
import { cleanupAllGuestd, startGuestd, type GuestdInstance } from '../../helpers/guestd.js';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** a CA, a server certificate for 127.0.0.1, a client certificate it signed, and one from another CA */
function makePki(dir: string): void {
  for (const ca of ['ca', 'otherca']) {
    openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=${ca}`);
  }
  writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const leaf = (name: string, ca: string, subj: string, ext?: string): void => {
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', ...(ext ? ['-extfile', ext] : []));
  };
  leaf('server', 'ca', '/CN=localhost', 'san.cnf');
  leaf('client', 'ca', '/C=GB/O=Example/CN=admin');
  leaf('client2', 'ca', '/C=GB/O=Example/CN=intruder');
  leaf('stranger', 'otherca', '/CN=stranger');
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** connect, send AUTH_LIST, resolve 'reply' when a reply comes back, or the reason it did not */
function tryTls(port: number, pki: string, client: string | null): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(path.join(pki, 'ca.pem')),
      ...(client ? { cert: readFileSync(path.join(pki, `${client}.pem`)), key: readFileSync(path.join(pki, `${client}.key`)) } : {}),
    });
    const decoder = new FrameDecoder();
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, 5000);
    const done = (what: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(what);
    };
    socket.on('secureConnect', () => {
      socket.write(encodeMessage({ prog: 0x20008086, vers: 1, proc: 66, type: 0, serial: 0, status: 0 }));
    });
    socket.on('data', (chunk: Buffer) => {
      if (decoder.push(chunk).length > 0) done('reply');
    });
    socket.on('error', (e) => done(`error: ${e.message}`));
    socket.on('close', () => done('closed'));
  });
}

describe('guestd TLS listener', () => {
  let pki: string;
  let port: number;
  let gd: GuestdInstance;
  before(async () => {
    pki = mkdtempSync(path.join(tmpdir(), 'guestd-pki-'));
    makePki(pki);
    port = await freePort();
    gd = await startGuestd({
      args: ['-l'],
      config: [
        'listen_addr = "127.0.0.1"',
        `tls_port = "${port}"`,
        `ca_file = "${pki}/ca.pem"`,
        `cert_file = "${pki}/server.pem"`,
        `key_file = "${pki}/server.key"`,
        'tls_allowed_dn_list = [ "C=GB,O=Example,CN=admin" ]',
      ].join('\n'),
    });
  });
  after(async () => {
    await cleanupAllGuestd();
    rmSync(pki, { recursive: true, force: true });
  });

  it('serves a client with a CA-signed certificate in the allowed DN list', async () => {
    assert.equal(await tryTls(port, pki, 'client'), 'reply');
  });

  it('refuses a client without a certificate, with a foreign one, or outside the DN list', async () => {
    assert.notEqual(await tryTls(port, pki, null), 'reply');
    assert.notEqual(await tryTls(port, pki, 'stranger'), 'reply');
    assert.notEqual(await tryTls(port, pki, 'client2'), 'reply');
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
