// Our client (openNative) against our server core (RpcServer + buildRemoteDispatch) over a real unix socket.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Connection, LifecycleEvent } from '../../../src/connect/connection.js';
import { openNative } from '../../../src/connect/native.js';
import { RemoteClient } from '../../../src/remote/client.js';
import { buildRemoteDispatch, readOnlyGuard, sendRemoteEvent } from '../../../src/remote/dispatch.js';
import { isVirError, LibvirtError, VirErr, VirFrom } from '../../../src/libvirt/error.js';
import { JobType } from '../../../src/remote/enums.js';
import { PROC, REMOTE, type ArgsOf } from '../../../src/remote/protocol.js';
import { tp, type RemoteDomain } from '../../../src/remote/types.js';
import { RpcServer, type ServerConnection } from '../../../src/rpc/server.js';
import { KEEPALIVE_PROGRAM, KeepaliveProc } from '../../../src/rpc/keepalive.js';
import { FrameDecoder } from '../../../src/rpc/message.js';
import { connectUnix } from '../../../src/rpc/transport.js';
import { waitFor } from '../../helpers/guestd.js';

interface State {
  readonly: boolean;
  callbacks: Set<number>;
}

const A: RemoteDomain = { name: 'alpha', uuid: '11111111-2222-3333-4444-555555555555', id: 1 };
const B: RemoteDomain = { name: 'beta', uuid: '66666666-2222-3333-4444-555555555555', id: -1 };
const C: RemoteDomain = { name: 'gamma', uuid: '77777777-2222-3333-4444-555555555555', id: 3 }; // transient
const domains = [A, B, C];
const persistent = new Set([A.uuid, B.uuid]);

const unhandled: unknown[] = [];
const trap = (r: unknown): void => {
  unhandled.push(r);
};
let dir: string;
let socketPath: string;
let listener: net.Server;
let server: RpcServer<State>;
const calls: number[] = [];
const seen: { start?: ArgsOf<'DOMAIN_CREATE_WITH_FLAGS'>; setTime?: ArgsOf<'DOMAIN_SET_TIME'>; save?: number } = {};
let saveJob: { processed: number; aborted: boolean } | undefined;
/** the fake save moves one step each time its progress is read (or it is aborted): as fast as the client looks */
let stepWaiters: (() => void)[] = [];
const nextStep = (): Promise<void> => new Promise((resolve) => stepWaiters.push(resolve));
const step = (): void => {
  const waiting = stepWaiters;
  stepWaiters = [];
  for (const resume of waiting) resume();
};
/** keepalive PONGs the server has received */
let pongs = 0;

function find(name: string): RemoteDomain {
  const d = domains.find((x) => x.name === name || x.uuid === name);
  if (!d) throw new LibvirtError(VirErr.NO_DOMAIN, VirFrom.DOMAIN, `Domain not found: '${name}'`);
  return d;
}

before(async () => {
  process.on('unhandledRejection', trap);
  dir = mkdtempSync(path.join(tmpdir(), 'rpc-roundtrip-'));
  socketPath = path.join(dir, 'sock');
  const dispatch = buildRemoteDispatch<State>({
    AUTH_LIST: () => ({ types: [0] }),
    CONNECT_SUPPORTS_FEATURE: ({ feature }) => ({ supported: feature === 10 ? 1 : 0 }),
    CONNECT_OPEN: ({ flags }, { connection }) => {
      connection.state.readonly = (flags & 1) === 1;
    },
    CONNECT_CLOSE: () => undefined,
    CONNECT_GET_TYPE: () => ({ type: 'Guest' }),
    CONNECT_LIST_ALL_DOMAINS: ({ flags }) => {
      const list = domains.filter(
        (d) =>
          ((flags & 1 && d.id !== -1) || (flags & 2 && d.id === -1)) &&
          (!(flags & 4) || persistent.has(d.uuid)) &&
          (!(flags & 8) || !persistent.has(d.uuid)),
      );
      return { domains: list, ret: list.length };
    },
    DOMAIN_LOOKUP_BY_NAME: ({ name }) => ({ dom: find(name) }),
    DOMAIN_LOOKUP_BY_UUID: ({ uuid }) => ({ dom: find(uuid) }),
    DOMAIN_GET_STATE: ({ dom }) => (find(dom.uuid).id === -1 ? { state: 5, reason: 1 } : { state: 1, reason: 1 }),
    DOMAIN_IS_PERSISTENT: ({ dom }) => ({ persistent: persistent.has(dom.uuid) ? 1 : 0 }),
    DOMAIN_HAS_MANAGED_SAVE_IMAGE: () => ({ result: 1 }),
    DOMAIN_MANAGED_SAVE: async ({ flags }) => {
      seen.save = flags;
      const job = (saveJob = { processed: 0, aborted: false });
      for (let i = 0; i < 8; i++) {
        await nextStep();
        if (job.aborted) throw new LibvirtError(VirErr.OPERATION_ABORTED, VirFrom.DOMAIN, 'operation aborted: job canceled by client');
        job.processed += 100;
      }
      saveJob = undefined;
    },
    DOMAIN_GET_JOB_STATS: () => {
      const stats = saveJob
        ? {
            type: JobType.UNBOUNDED,
            params: [tp.ullong('time_elapsed', 123n), tp.ullong('data_total', 800n), tp.ullong('data_processed', BigInt(saveJob.processed))],
          }
        : { type: JobType.NONE, params: [] };
      step();
      return stats;
    },
    DOMAIN_ABORT_JOB: () => {
      if (saveJob) saveJob.aborted = true;
      step();
    },
    DOMAIN_CREATE_WITH_FLAGS: (args) => {
      seen.start = args;
      return { dom: { ...args.dom, id: 9 } };
    },
    DOMAIN_SHUTDOWN: () => undefined,
    DOMAIN_SET_TIME: (args) => {
      seen.setTime = args;
    },
    DOMAIN_GET_TIME: () => ({ seconds: 1700000000n, nseconds: 5 }),
    DOMAIN_GET_METADATA: ({ uri }) => {
      if (uri !== 'urn:x') throw new LibvirtError(VirErr.NO_DOMAIN_METADATA, VirFrom.DOMAIN, 'metadata not found');
      return { metadata: '<x/>' };
    },
    CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: (_args, { connection }) => {
      const id = connection.state.callbacks.size + 1;
      connection.state.callbacks.add(id);
      // an event right behind the reply: the client must not lose it
      setImmediate(() => sendRemoteEvent(connection, 'DOMAIN_EVENT_CALLBACK_LIFECYCLE', { callbackID: id, msg: { dom: A, event: 2, detail: 0 } }));
      return { callbackID: id };
    },
    CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: ({ callbackID }, { connection }) => {
      connection.state.callbacks.delete(callbackID);
    },
  });
  server = new RpcServer<State>({
    createState: () => ({ readonly: false, callbacks: new Set() }),
    authorize: (conn, header) => {
      calls.push(header.proc);
      return readOnlyGuard<State>((c) => c.state.readonly)(conn, header);
    },
    keepalive: { intervalMs: 100, count: 2 },
  }).addProgram(dispatch);
  listener = net.createServer((s) => {
    const frames = new FrameDecoder();
    s.on('data', (chunk: Buffer) => {
      for (const m of frames.push(chunk)) if (m.header.prog === KEEPALIVE_PROGRAM && m.header.proc === KeepaliveProc.PONG) pongs++;
    });
    server.accept(s);
  });
  await new Promise<void>((resolve) => listener.listen(socketPath, resolve));
});

after(async () => {
  await server.close();
  await new Promise((r) => listener.close(r));
  rmSync(dir, { recursive: true, force: true });
  process.off('unhandledRejection', trap);
  assert.deepEqual(unhandled, []);
});

const open = (readonly = false): Promise<Connection> =>
  openNative({ original: 'guest:///system', remoteName: 'guest:///system', target: { transport: 'unix', socketPath }, readonly });

describe('openNative ↔ RpcServer', () => {
  it('does virsh\'s handshake and closes with CONNECT_CLOSE', async () => {
    calls.length = 0;
    const c = await open();
    assert.deepEqual(calls, [66, 60, 1]);
    assert.equal(server.connections.size, 1);
    await c.close();
    assert.deepEqual(calls, [66, 60, 1, 2]);
    await waitFor('the server to let the connection go', () => server.connections.size === 0);
  });

  it('lists guests with state and persistence, and looks them up', async () => {
    const c = await open();
    const all = await c.listGuests({ which: 'all' });
    assert.deepEqual(
      all.map((g) => [g.name, g.state, g.persistent]),
      // virsh's order: running guests by id, then the others by name
      [
        ['alpha', 'running', true],
        ['gamma', 'running', false],
        ['beta', 'shutoff', true],
      ],
    );
    assert.deepEqual((await c.listGuests({ persistence: 'transient' })).map((g) => g.name), ['gamma']);
    assert.deepEqual(await c.lookup('beta'), B);
    assert.deepEqual(await c.lookup(A.uuid.toUpperCase()), A);
    const err = await c.lookup('nope').catch((e: unknown) => e);
    assert.ok(isVirError(err, VirErr.NO_DOMAIN));
    await c.close();
  });

  it('managed save reports progress while other calls and keepalive go on', async () => {
    const c = await open();
    const progress: number[] = [];
    const save = c.managedSave(A, { bypassCache: true, progressIntervalMs: 20, onProgress: (p) => progress.push(p.dataProcessed ?? -1) });
    await waitFor('the first progress report', () => progress.length > 0);
    assert.equal((await c.state(A)).state, 'running'); // not blocked by the save
    assert.ok(saveJob, 'answered while the save still runs');
    await save;
    assert.equal(seen.save, 1);
    // each step seen (the last one ends the save, and its report may come after the save's reply)
    assert.deepEqual(progress.slice(0, 7), [0, 100, 200, 300, 400, 500, 600]);
    assert.deepEqual(await c.jobInfo(A), { type: 'none' });
    await c.close();
  });

  it('aborting a managed save sends ABORT_JOB and rejects with OPERATION_ABORTED', async () => {
    const c = await open();
    const ac = new AbortController();
    const save = c.managedSave(A, { signal: ac.signal });
    await waitFor('the save to begin', () => saveJob !== undefined);
    ac.abort();
    const err = await save.catch((e: unknown) => e);
    assert.ok(err instanceof LibvirtError, String(err));
    assert.equal(err.virCode, VirErr.OPERATION_ABORTED);
    assert.ok(calls.includes(164));
    await c.close();
  });

  it('start, setTime, getTime, metadata', async () => {
    const c = await open();
    assert.deepEqual(await c.start(B, { bypassCache: true, forceBoot: true }), { ...B, id: 9 });
    assert.equal(seen.start?.flags, 12);
    await c.setTime(A, { sync: true });
    assert.deepEqual(seen.setTime, { dom: A, seconds: 0n, nseconds: 0, flags: 1 });
    assert.deepEqual(await c.getTime(A), { seconds: 1700000000, nseconds: 5 });
    assert.equal(await c.getMetadata(A, 'urn:x'), '<x/>');
    assert.equal(await c.getMetadata(A, 'urn:other'), null);
    await c.close();
  });

  it('delivers lifecycle events, including one right behind the register reply, and deregisters', async () => {
    const c = await open();
    const events: LifecycleEvent[] = [];
    const unsubscribe = await c.onLifecycle((e) => events.push(e));
    await waitFor('the event behind the register reply', () => events.length > 0);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.kind, 'started');
    assert.deepEqual(events[0]!.guest, A);
    // ours is the connection with a callback (the earlier tests' connections may not all be gone yet)
    const conn = [...server.connections].find((x) => x.state.callbacks.size > 0) as ServerConnection<State>;
    assert.deepEqual([...conn.state.callbacks], [1]);
    sendRemoteEvent(conn, 'DOMAIN_EVENT_CALLBACK_LIFECYCLE', { callbackID: 1, msg: { dom: A, event: 5, detail: 1 } });
    sendRemoteEvent(conn, 'DOMAIN_EVENT_CALLBACK_LIFECYCLE', { callbackID: 99, msg: { dom: A, event: 5, detail: 1 } });
    await c.state(A); // its reply comes after both events on the same stream
    assert.deepEqual(events.map((e) => e.kind), ['started', 'stopped']);
    await unsubscribe();
    assert.deepEqual([...conn.state.callbacks], []);
    await c.close();
  });

  it('a read-only connection is refused mutating procedures with OPERATION_DENIED', async () => {
    const c = await open(true);
    assert.equal((await c.listGuests()).length, 2);
    const err = await c.shutdown(A).catch((e: unknown) => e);
    assert.ok(err instanceof LibvirtError);
    assert.equal(err.virCode, VirErr.OPERATION_DENIED);
    assert.match(err.message, /read only access prevents virDomainShutdown/);
    await c.close();
  });

  it('answers protocol faults the way libvirtd does, keeping the connection', async () => {
    const client = new RemoteClient(await connectUnix(socketPath));
    const fail = (p: Promise<unknown>) => p.then(() => assert.fail('expected an error'), (e: unknown) => e as LibvirtError);
    let e = await fail(client.rpc.call(REMOTE, 9999, Buffer.alloc(0)));
    assert.deepEqual([e.virCode, e.virDomain, e.message], [39, 7, 'unknown procedure: 9999']);
    e = await fail(client.rpc.call({ prog: 0x11, vers: 1 }, 1, Buffer.alloc(0)));
    // our client refuses the reply of a program it does not speak: check with a raw exchange below instead
    assert.equal(client.closed, true);
    const c2 = new RemoteClient(await connectUnix(socketPath));
    e = await fail(c2.rpc.call(REMOTE, PROC.DOMAIN_LOOKUP_BY_NAME.number, Buffer.from('000000ff', 'hex')));
    assert.deepEqual([e.virCode, e.virDomain, e.message], [39, 7, 'Unable to decode message payload']);
    e = await fail(c2.call(PROC.DOMAIN_GET_XML_DESC, { dom: A, flags: 0 })); // described, no handler
    assert.equal(e.virCode, VirErr.NO_SUPPORT);
    e = await fail(c2.rpc.call(REMOTE, 8, Buffer.alloc(0))); // in the table, not described
    assert.equal(e.virCode, VirErr.NO_SUPPORT);
    assert.equal(c2.closed, false);
    // keepalive: the server PINGs every 100 ms of silence and drops a client silent for 300 ms; ours answers: four
    // PINGs answered in a row are a silence the server would not have survived otherwise
    pongs = 0;
    await waitFor('four PONGs', () => pongs >= 4);
    assert.deepEqual(await c2.call(PROC.CONNECT_GET_TYPE), { type: 'Guest' });
    await c2.close();
  });

  it('an unknown program gets "Cannot find program"', async () => {
    const s = await connectUnix(socketPath);
    const { encodeMessage, FrameDecoder } = await import('../../../src/rpc/message.js');
    const { decode } = await import('../../../src/rpc/xdr-types.js');
    const { wireErrorType } = await import('../../../src/rpc/wire-error.js');
    const decoder = new FrameDecoder();
    const got = new Promise<import('../../../src/rpc/message.js').Message>((resolve) =>
      s.on('data', (chunk: Buffer) => {
        for (const m of decoder.push(chunk)) if (m.header.type === 1) resolve(m);
      }),
    );
    s.write(encodeMessage({ prog: 0x11, vers: 2, proc: 5, type: 0, serial: 7, status: 0 }));
    const m = await got;
    assert.deepEqual([m.header.prog, m.header.proc, m.header.serial, m.header.status], [0x11, 5, 7, 1]);
    const err = decode(wireErrorType, m.body);
    assert.deepEqual([err.code, err.domain, err.message], [39, 7, 'Cannot find program 17 version 2']);
    s.destroy();
  });
});
