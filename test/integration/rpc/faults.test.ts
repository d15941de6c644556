// A misbehaving peer on a real unix socket: every fault must end in a typed error, with the connection closed and
// nothing left pending (no unhandled rejection). A hang fails by the suite's timeout; the exact timing of the
// keepalive rule is pinned over mocked timers in test/unit/rpc/keepalive.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { openNative } from '../../../src/connect/native.js';
import { AuthUnsupportedError } from '../../../src/remote/auth.js';
import { RemoteClient } from '../../../src/remote/client.js';
import { LibvirtError } from '../../../src/libvirt/error.js';
import { PROC } from '../../../src/remote/protocol.js';
import { RpcError } from '../../../src/rpc/errors.js';
import { KEEPALIVE_PROGRAM, KeepaliveProc, keepaliveMessage } from '../../../src/rpc/keepalive.js';
import { encodeMessage, FrameDecoder, MessageType, type Message } from '../../../src/rpc/message.js';
import { connectUnix } from '../../../src/rpc/transport.js';
import { encode } from '../../../src/rpc/xdr-types.js';
import { wireErrorFrom, wireErrorType } from '../../../src/rpc/wire-error.js';
import { waitFor } from '../../helpers/guestd.js';

const unhandled: unknown[] = [];
const trap = (reason: unknown): void => {
  unhandled.push(reason);
};
let dir: string;
let server: net.Server | undefined;
let sockets: net.Socket[] = [];
let servers = 0;

before(() => {
  process.on('unhandledRejection', trap);
  dir = mkdtempSync(path.join(tmpdir(), 'rpc-faults-'));
});
after(() => {
  process.off('unhandledRejection', trap);
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(unhandled, [], 'no unhandled rejections');
});
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A fake daemon: `onMessage` sees every decoded message with the socket to answer on. */
async function fakeServer(onMessage: (m: Message, socket: net.Socket) => void, onConnect?: (s: net.Socket) => void): Promise<string> {
  const socketPath = path.join(dir, `s${++servers}.sock`);
  server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const m of decoder.push(chunk)) onMessage(m, socket);
    });
    onConnect?.(socket);
  });
  await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
  return socketPath;
}

const reply = (m: Message, body: Buffer = Buffer.alloc(0), patch: Partial<Message['header']> = {}): Buffer =>
  encodeMessage({ ...m.header, type: MessageType.REPLY, status: 0, ...patch }, body);

async function expectFailure(p: Promise<unknown>, failure: RpcError['failure']): Promise<RpcError> {
  const err = await p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RpcError, `expected RpcError, got ${String(err)}`);
  assert.equal(err.failure, failure, err.message);
  return err;
}

describe('client against a faulty peer', { timeout: 30_000 }, () => {
  it('a truncated frame then close: RpcError closed, every pending call rejected', async () => {
    const socketPath = await fakeServer((m, s) => {
      if (m.header.serial === 1) s.end(reply(m).subarray(0, 10));
    });
    const client = new RemoteClient(await connectUnix(socketPath));
    const first = client.call(PROC.CONNECT_GET_TYPE);
    const second = client.call(PROC.CONNECT_GET_HOSTNAME);
    await expectFailure(first, 'closed');
    await expectFailure(second, 'closed');
    assert.equal(client.closed, true);
    await expectFailure(client.call(PROC.CONNECT_GET_TYPE), 'closed');
  });

  it('a reply for the wrong program: protocol error and close', async () => {
    const socketPath = await fakeServer((m, s) => s.write(reply(m, Buffer.alloc(0), { prog: 0x12345678 })));
    const client = new RemoteClient(await connectUnix(socketPath));
    const err = await expectFailure(client.call(PROC.CONNECT_CLOSE), 'protocol');
    assert.match(err.message, /program 0x12345678/);
    assert.equal(client.closed, true);
  });

  it('a length of 2^31: too-large and close', async () => {
    const socketPath = await fakeServer((_m, s) => s.write(Buffer.from('80000000', 'hex')));
    const client = new RemoteClient(await connectUnix(socketPath));
    await expectFailure(client.call(PROC.CONNECT_CLOSE), 'too-large');
    assert.equal(client.closed, true);
  });

  it('a length below the header size: protocol error', async () => {
    const socketPath = await fakeServer((_m, s) => s.write(Buffer.from('00000004', 'hex')));
    const client = new RemoteClient(await connectUnix(socketPath));
    await expectFailure(client.call(PROC.CONNECT_CLOSE), 'protocol');
  });

  it('a reply with an unknown serial: protocol error and close', async () => {
    const socketPath = await fakeServer((m, s) => s.write(reply(m, Buffer.alloc(0), { serial: m.header.serial + 41 })));
    const client = new RemoteClient(await connectUnix(socketPath));
    const err = await expectFailure(client.call(PROC.CONNECT_CLOSE), 'protocol');
    assert.match(err.message, /unknown serial 41/);
  });

  it('a reply body that does not decode: protocol error and close', async () => {
    const socketPath = await fakeServer((m, s) => s.write(reply(m, Buffer.from('00000001', 'hex'))));
    const client = new RemoteClient(await connectUnix(socketPath));
    await expectFailure(client.call(PROC.CONNECT_GET_TYPE), 'protocol');
    assert.equal(client.closed, true);
  });

  it('a peer that never answers: the call timeout rejects and closes', async () => {
    const socketPath = await fakeServer(() => undefined);
    const client = new RemoteClient(await connectUnix(socketPath), { callTimeoutMs: 200 });
    const other = client.call(PROC.CONNECT_GET_HOSTNAME, undefined, { timeoutMs: 0 });
    await expectFailure(client.call(PROC.CONNECT_GET_TYPE), 'timeout');
    await expectFailure(other, 'timeout');
    assert.equal(client.closed, true);
  });

  it('a peer that never answers PINGs: keepalive timeout after interval × (count + 1)', async () => {
    let pings = 0;
    let hungUp = false;
    const socketPath = await fakeServer(
      (m) => {
        if (m.header.prog === KEEPALIVE_PROGRAM && m.header.proc === KeepaliveProc.PING) pings++;
      },
      (s) => s.on('close', () => (hungUp = true)),
    );
    const client = new RemoteClient(await connectUnix(socketPath));
    const started = Date.now();
    client.startKeepalive({ intervalMs: 100, count: 2 });
    const err = await expectFailure(client.call(PROC.CONNECT_GET_TYPE), 'keepalive');
    assert.match(err.message, /keepalive timeout/);
    assert.ok(Date.now() - started >= 300, `dead after ${Date.now() - started} ms, before interval × (count + 1)`);
    await waitFor('the client to hang up', () => hungUp); // every PING it sent has been read by then
    assert.ok(pings <= 2, `${pings} PINGs: count at most`);
  });

  it('an aborted call rejects alone; the late reply is dropped and the connection stays usable', async () => {
    let lateReplySent = false;
    const socketPath = await fakeServer((m, s) => {
      const body = encode(PROC.CONNECT_GET_TYPE.ret, { type: 'X' });
      if (m.header.serial !== 0) return void s.write(reply(m, body));
      // a slow daemon: the first call is answered 150 ms late
      setTimeout(() => (s.write(reply(m, body)), (lateReplySent = true)), 150);
    });
    const client = new RemoteClient(await connectUnix(socketPath));
    const ac = new AbortController();
    const slow = client.call(PROC.CONNECT_GET_TYPE, undefined, { signal: ac.signal });
    ac.abort();
    await expectFailure(slow, 'aborted');
    assert.equal(lateReplySent, false, 'rejected at the abort, not at the reply');
    await waitFor('the late reply', () => lateReplySent);
    // the next reply comes after the late one on the same stream: the late one has been dropped by then
    assert.deepEqual(await client.call(PROC.CONNECT_GET_TYPE), { type: 'X' });
    await client.close();
  });

  it('answers a server PING with a PONG and turns an error reply into LibvirtError', async () => {
    let pong = false;
    const socketPath = await fakeServer(
      (m, s) => {
        if (m.header.prog === KEEPALIVE_PROGRAM) {
          pong = m.header.proc === KeepaliveProc.PONG && m.header.type === MessageType.MESSAGE && m.header.serial === 0;
          return;
        }
        const body = encode(wireErrorType, wireErrorFrom(new LibvirtError(42, 10, 'Domain not found')));
        s.write(reply(m, body, { status: 1 }));
      },
      (s) => s.write(keepaliveMessage(KeepaliveProc.PING)),
    );
    const client = new RemoteClient(await connectUnix(socketPath));
    const err = await client.call(PROC.DOMAIN_LOOKUP_BY_NAME, { name: 'x' }).catch((e: unknown) => e);
    assert.ok(err instanceof LibvirtError);
    assert.equal(err.virCode, 42);
    assert.equal(err.message, 'Domain not found');
    assert.equal(client.closed, false);
    assert.equal(pong, true);
    await client.close();
  });

  it('openNative: SASL-only daemon gives AuthUnsupportedError and closes', async () => {
    let closed = false;
    const socketPath = await fakeServer(
      (m, s) => s.write(reply(m, encode(PROC.AUTH_LIST.ret, { types: [1] }))),
      (s) => s.on('close', () => (closed = true)),
    );
    const err = await openNative({ original: 'x', remoteName: 'qemu:///system', target: { transport: 'unix', socketPath }, readonly: false }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof AuthUnsupportedError, String(err));
    assert.match(err.hint ?? '', /virsh/);
    await waitFor('the connection to close', () => closed);
  });

  it('openNative: no daemon at the socket path is a typed connect error', async () => {
    await expectFailure(
      openNative({ original: 'x', remoteName: 'x', target: { transport: 'unix', socketPath: path.join(dir, 'none.sock') }, readonly: false }),
      'connect',
    );
  });
});
