// The daemon's listening sockets: unix sockets it creates itself (with their mode and group), sockets passed by
// systemd, and the TLS listener of -l/--listen. Every accepted connection is handed to `accept` with its role.
import { chmodSync, chownSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { ConfigError } from '../errors.js';
import { sendTlsConfirmation } from '../rpc/transport.js';
import type { ActivatedRole } from './socket-activation.js';

export type AcceptFn = (socket: net.Socket, role: ActivatedRole) => void;

export interface Listener {
  role: ActivatedRole;
  /** socket path, or host:port for TLS, or fd:N when passed by systemd */
  where: string;
  server: net.Server;
  /** our own socket file, removed on close; null when systemd owns it */
  ownedPath: string | null;
}

/** A group name (from /etc/group) or number, as unix_sock_group allows. */
export function resolveGroup(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    /* no group database */
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new ConfigError(`unix_sock_group: no group named '${group}'`, { variable: 'unix_sock_group' });
}

/**
 * A unix socket of ours. `backlog` is max_queued_clients; connections are accepted paused, so one that waits for a
 * place (max_clients) is not read at all.
 */
export async function listenUnix(
  socketPath: string,
  role: ActivatedRole,
  access: { mode: number; gid: number | null },
  accept: AcceptFn,
  backlog: number,
): Promise<Listener> {
  mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  // we hold the PID file, so a socket file left here belongs to a dead daemon
  try {
    unlinkSync(socketPath);
  } catch {
    /* not there */
  }
  const server = net.createServer({ pauseOnConnect: true }, (socket) => accept(socket, role));
  // create it with no access at all, then open it up: no window in which it is wider than configured
  const oldMask = process.umask(0o777);
  try {
    await listen(server, { path: socketPath, backlog });
  } finally {
    process.umask(oldMask);
  }
  if (access.gid !== null) chownSync(socketPath, -1, access.gid);
  chmodSync(socketPath, access.mode);
  return { role, where: socketPath, server, ownedPath: socketPath };
}

/** Who may pass the TLS listener; read at every connection, so SIGHUP can change it. */
export interface TlsPolicy {
  allowedDnList: string[] | null;
  /** clients still in their handshake (not yet authenticated); more are closed at once; 0: no limit */
  maxAnonymousClients: number;
}

export interface TlsGate {
  policy: TlsPolicy;
  log: (m: string) => void;
}

export async function listenFd(
  fd: number,
  role: ActivatedRole,
  accept: AcceptFn,
  tlsServer?: TlsGate & { options: tls.TlsOptions },
): Promise<Listener> {
  const server = tlsServer
    ? createTlsServer(tlsServer.options, accept, tlsServer)
    : net.createServer({ pauseOnConnect: true }, (socket) => accept(socket, role));
  await listen(server, { fd });
  return { role, where: `fd:${fd}`, server, ownedPath: null };
}

export interface TlsSettings {
  host: string | null;
  port: number;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Node's TLS options for a server that requires a client certificate signed by our CA. */
export function tlsServerOptions(settings: TlsSettings): tls.TlsOptions {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(`cannot read the TLS ${what} ${file}: ${(error as Error).message}`, {
        variable: what === 'CA certificate' ? 'ca_file' : what === 'certificate' ? 'cert_file' : 'key_file',
      });
    }
  };
  return {
    ca: read(settings.caFile, 'CA certificate'),
    cert: read(settings.certFile, 'certificate'),
    key: read(settings.keyFile, 'private key'),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}

export async function listenTls(settings: TlsSettings, gate: TlsGate, accept: AcceptFn, backlog: number): Promise<Listener> {
  const server = createTlsServer(tlsServerOptions(settings), accept, gate);
  await listen(server, { ...(settings.host ? { host: settings.host } : {}), port: settings.port, backlog });
  return { role: 'tls', where: `${settings.host ?? '*'}:${settings.port}`, server, ownedPath: null };
}

function createTlsServer(options: tls.TlsOptions, accept: AcceptFn, { policy, log }: TlsGate): tls.Server {
  const server = tls.createServer(options, (socket) => {
    const dn = peerDn(socket);
    const allowed = policy.allowedDnList;
    if (allowed && !dnAllowed(dn, allowed)) {
      log(`TLS client refused: certificate DN '${dn.join(',')}' is not in tls_allowed_dn_list`);
      socket.destroy();
      return;
    }
    sendTlsConfirmation(socket);
    accept(socket, 'tls');
  });
  // max_anonymous_clients: TCP connections whose handshake has not ended, by peer address (the TLS socket wraps
  // the TCP one and has the same); closing the TCP socket is the backstop
  const handshaking = new Map<string, net.Socket>();
  const peerKey = (s: net.Socket): string => `${s.remoteAddress}|${s.remotePort}`;
  const handshakeEnded = (s: net.Socket): void => {
    handshaking.delete(peerKey(s));
  };
  let refusedSince = 0;
  server.on('connection', (raw: net.Socket) => {
    const max = policy.maxAnonymousClients;
    if (max > 0 && handshaking.size >= max) {
      raw.destroy();
      if (Date.now() - refusedSince > 10_000) {
        refusedSince = Date.now();
        log(`TLS client refused: ${handshaking.size} handshakes in progress already (max_anonymous_clients)`);
      }
      return;
    }
    const key = peerKey(raw);
    handshaking.set(key, raw);
    raw.once('close', () => {
      if (handshaking.get(key) === raw) handshaking.delete(key);
    });
  });
  server.on('secureConnection', handshakeEnded);
  server.on('tlsClientError', (error, socket) => {
    handshakeEnded(socket);
    log(`TLS handshake refused: ${error.message}`);
  });
  return server;
}

function peerDn(socket: tls.TLSSocket): string[] {
  const subject = socket.getPeerX509Certificate()?.subject ?? '';
  return subject.split('\n').filter(Boolean);
}

/** libvirt matches the DN string with fnmatch; we accept either RDN order (C first, or CN first). */
export function dnAllowed(rdns: string[], patterns: string[]): boolean {
  const forms = [rdns.join(','), [...rdns].reverse().join(',')];
  return patterns.some((pattern) => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return forms.some((form) => re.test(form));
  });
}

function listen(server: net.Server, options: net.ListenOptions | { fd: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    // a {fd} handle is documented for listen(); @types/node's overloads do not merge it with the options object
    server.listen(options as net.ListenOptions, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export function closeListener(listener: Listener): Promise<void> {
  return new Promise((resolve) => {
    listener.server.close(() => resolve());
    if (listener.ownedPath) {
      try {
        unlinkSync(listener.ownedPath);
      } catch {
        /* gone */
      }
    }
  });
}
