// Opening the byte streams libvirt's RPC runs over: a unix socket, or TLS over TCP with a client certificate.
// The only module of src/rpc that touches the network and the file system.
//
// libvirt's TLS has one step after the handshake: the server checks the client's certificate (CA, DN allow list)
// and, when it passes, writes a single byte 0x01 inside the TLS stream before any RPC message; when it does not,
// it closes the connection. A libvirt client waits for that byte before its first call.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { RpcError } from './errors.js';

export interface ConnectOptions {
  /** give up connecting after this long (default 30 s) */
  timeoutMs?: number;
}

/** the byte a libvirt server sends after the TLS handshake when it accepts the client's certificate */
const TLS_CONFIRMATION = 0x01;

/** Server side: tell a TLS client its certificate passed our checks (libvirt's clients wait for this). */
export function sendTlsConfirmation(socket: tls.TLSSocket): void {
  socket.write(Buffer.of(TLS_CONFIRMATION));
}

/**
 * Wait until `readyEvent`, then (TLS) for the server's confirmation byte, all within the timeout. After the
 * confirmation the socket is paused with nothing consumed beyond that byte: the RPC peer resumes it.
 */
function settle<S extends net.Socket>(
  socket: S,
  readyEvent: string,
  what: string,
  options: ConnectOptions & { confirmation?: boolean },
): Promise<S> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 30_000;
    let connected = false;
    const stop = (): void => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
    };
    const fail = (err: RpcError): void => {
      stop();
      socket.destroy();
      reject(err);
    };
    const done = (): void => {
      stop();
      // until the RPC client attaches its own handlers, an error must not crash the process; the client
      // still learns about it through 'close'
      socket.on('error', () => undefined);
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException): void => fail(connectError(what, err));
    const onData = (chunk: Buffer): void => {
      socket.pause();
      if (chunk[0] !== TLS_CONFIRMATION) {
        const got = `0x${chunk[0]!.toString(16).padStart(2, '0')}`;
        fail(new RpcError('connect', `${what}: not a libvirt TLS server: it sent ${got} instead of the confirmation byte 0x01`));
        return;
      }
      if (chunk.length > 1) socket.unshift(chunk.subarray(1));
      done();
    };
    const onClose = (): void => fail(refused(what, 'it closed the connection instead of confirming the TLS session'));
    const timer = setTimeout(() => {
      const hint = connected ? 'The TLS handshake succeeded but the server never confirmed it: is it a libvirt daemon?' : undefined;
      fail(new RpcError('connect', `${what}: no connection after ${timeoutMs} ms`, hint ? { hint } : {}));
    }, timeoutMs);
    socket.once(readyEvent, () => {
      connected = true;
      if (!options.confirmation) {
        done();
        return;
      }
      socket.on('data', onData);
      socket.once('close', onClose);
    });
    socket.once('error', onError);
  });
}

/** libvirt words this "server verification (of our certificate or IP address) failed" */
function refused(what: string, why: string): RpcError {
  return new RpcError('connect', `${what}: the server refused our certificate or address (${why})`, {
    hint: "The client certificate must be signed by a CA the server trusts and its DN allowed by the server's tls_allowed_dn_list.",
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
  return settle(socket, 'secureConnect', what, { ...options, confirmation: true });
}
