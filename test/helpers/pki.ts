// Certificates for TLS tests, made with openssl in a temp dir: a CA, a server certificate for localhost and
// 127.0.0.1, and client certificates signed by that CA, by another CA, or by themselves. Each client also gets a
// libvirt `pkipath` directory (cacert.pem, clientcert.pem, clientkey.pem) that virsh and our client read.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startGuestd, type GuestdInstance } from './guestd.js';

export type Issuer = 'ca' | 'otherca' | 'self';

export interface ClientSpec {
  /** openssl -subj form, e.g. /C=GB/O=Example/CN=admin */
  subject: string;
  issuer?: Issuer;
}

export interface Pki {
  dir: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  /** a libvirt pkipath directory for that client, trusting our CA */
  pkipath(client: string): string;
  remove(): void;
}

/** EC keys: fast to make, and accepted by both Node and GnuTLS */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makePki(clients: Record<string, ClientSpec>, parent = tmpdir()): Pki {
  const dir = mkdtempSync(path.join(parent, 'pki-'));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const file = (name: string): string => path.join(dir, name);
  writeFileSync(
    file('server.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  writeFileSync(
    file('client.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  for (const ca of ['ca', 'otherca']) {
    openssl('req', '-x509', ...NEW_KEY, '-days', '2', '-subj', `/CN=${ca} test authority`, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  const leaf = (name: string, subject: string, issuer: Issuer, ext: string): void => {
    if (issuer === 'self') {
      openssl('req', '-x509', ...NEW_KEY, '-days', '2', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.pem`);
      return;
    }
    openssl('req', ...NEW_KEY, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.pem`);
  };
  leaf('server', '/CN=localhost', 'ca', 'server.ext');
  for (const [name, spec] of Object.entries(clients)) {
    leaf(`client-${name}`, spec.subject, spec.issuer ?? 'ca', 'client.ext');
    const pkipath = file(`pkipath-${name}`);
    mkdirSync(pkipath);
    copyFileSync(file('ca.pem'), path.join(pkipath, 'cacert.pem'));
    copyFileSync(file(`client-${name}.pem`), path.join(pkipath, 'clientcert.pem'));
    copyFileSync(file(`client-${name}.key`), path.join(pkipath, 'clientkey.pem'));
  }
  return {
    dir,
    caFile: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    pkipath: (client) => file(`pkipath-${client}`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A guestd with -l on 127.0.0.1 (a free port) with these certificates and DN allow list. */
export async function startTlsGuestd(
  pki: Pki,
  options: { allowedDns?: string[]; config?: string } = {},
): Promise<{ gd: GuestdInstance; port: number }> {
  const port = await freePort();
  const config = [
    'listen_addr = "127.0.0.1"',
    `tls_port = "${port}"`,
    `ca_file = "${pki.caFile}"`,
    `cert_file = "${pki.serverCert}"`,
    `key_file = "${pki.serverKey}"`,
    ...(options.allowedDns ? [`tls_allowed_dn_list = [ ${options.allowedDns.map((dn) => JSON.stringify(dn)).join(', ')} ]`] : []),
    ...(options.config ? [options.config] : []),
  ].join('\n');
  const gd = await startGuestd({ args: ['-l'], config });
  return { gd, port };
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * What a libvirt TLS server says to this client (null: no certificate at all): 'confirmed' when it sends the
 * confirmation byte after the handshake, else 'refused: <how>' (an alert, a close, or silence for 5 s).
 */
export function tlsVerdict(port: number, pki: Pki, client: string | null): Promise<string> {
  return new Promise((resolve) => {
    const dir = client ? pki.pkipath(client) : null;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(pki.caFile),
      ...(dir ? { cert: readFileSync(path.join(dir, 'clientcert.pem')), key: readFileSync(path.join(dir, 'clientkey.pem')) } : {}),
    });
    const done = (verdict: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(verdict);
    };
    const timer = setTimeout(() => done('refused: no confirmation within 5 s'), 5000);
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 1 ? 'confirmed' : `refused: got 0x${chunk[0]!.toString(16)}`));
    socket.on('error', (e) => done(`refused: ${e.message}`));
    socket.on('close', () => done('refused: closed'));
  });
}
