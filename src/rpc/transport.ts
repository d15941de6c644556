// Opening the byte streams libvirt's RPC runs over: a unix socket, or TLS over TCP with a client certificate.
// The only module of src/rpc that touches the network and the file system.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { RpcError } from './errors.js';

export interface ConnectOptions {
  /** give up connecting after this long (default 30 s) */
  timeoutMs?: number;
}

function settle<S extends net.Socket>(socket: S, readyEvent: string, what: string, options: ConnectOptions): Promise<S> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RpcError('connect', `${what}: no connection after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectError(what, err));
    };
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      // until the RPC client attaches its own handlers, an error must not crash the process; the client
      // still learns about it through 'close'
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', onError);
  });
}

function connectError(what: string, err: NodeJS.ErrnoException): RpcError {
  const hint =
    err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
      ? 'Is the daemon running? Check the socket path and the service status.'
      : err.code === 'EACCES'
        ? 'Permission denied: run as root, join the socket group, or use the read-only socket.'
        : undefined;
  return new RpcError('connect', `${what}: ${err.message}`, { cause: err, ...(hint ? { hint } : {}) });
}

export function connectUnix(socketPath: string, options: ConnectOptions = {}): Promise<net.Socket> {
  return settle(net.createConnection({ path: socketPath }), 'connect', `cannot connect to ${socketPath}`, options);
}

export interface TlsTarget {
  host: string;
  port: number;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export async function connectTls(target: TlsTarget, options: ConnectOptions = {}): Promise<tls.TLSSocket> {
  const what = `cannot connect to ${target.host}:${target.port} (TLS)`;
  let ca: Buffer, cert: Buffer, key: Buffer;
  try {
    [ca, cert, key] = await Promise.all([readFile(target.caFile), readFile(target.certFile), readFile(target.keyFile)]);
  } catch (err) {
    throw new RpcError('connect', `${what}: ${(err as Error).message}`, {
      cause: err,
      hint: 'The CA certificate, client certificate and key must be readable (see libvirt\'s TLS setup).',
    });
  }
  // SNI must not be an IP address (RFC 6066); certificate identity is still checked against the host
  const servername = net.isIP(target.host) ? undefined : target.host;
  const socket = tls.connect({ host: target.host, port: target.port, ca, cert, key, ...(servername ? { servername } : {}) });
  return settle(socket, 'secureConnect', what, options);
}
