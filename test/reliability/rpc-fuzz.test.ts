// Fuzzed RPC input against a real guestd: random bytes, random frames, mutated valid sessions (bits flipped, bytes
// cut or repeated, header fields and lengths changed, frames reordered), bad lengths, slow writers and clients
// that never read their replies, on the read-write and the read-only socket. After every batch the daemon must be
// alive, within its memory bound, log no unexpected failure, and serve another client in under a second.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_GUESTD_CONFIG } from '../../src/config/guestd-conf.js';
import { ConnectFlags, DomainEventId, Feature } from '../../src/remote/enums.js';
import { PROC, REMOTE_PROGRAM, type Procedure } from '../../src/remote/protocol.js';
import type { RemoteDomain } from '../../src/remote/types.js';
import { KEEPALIVE_PROGRAM, KeepaliveProc, keepaliveMessage } from '../../src/rpc/keepalive.js';
import { encodeMessage, HEADER_SIZE, LEN_SIZE, MESSAGE_MAX, MessageType } from '../../src/rpc/message.js';
import { decode, encode } from '../../src/rpc/xdr-types.js';
import { cleanupAllGuestd, sleep, startGuestd, type GuestdInstance } from '../helpers/guestd.js';
import { MiB, mib, processMemory } from '../helpers/memory.js';
import { RawClient } from '../helpers/raw-rpc.js';
import { log, random, report, trials, type Random } from '../helpers/reliability.js';
import { guestctl, guestXml } from '../helpers/virsh.js';

const SUITE = 'rpc-fuzz';
const LIVENESS_MS = 1000;

after(cleanupAllGuestd);

/** a call of the REMOTE program with its arguments encoded as the procedure describes them */
function call<A>(procedure: Procedure<A, unknown>, args: A, serial: number): Buffer {
  const body = encode(procedure.args, args);
  return encodeMessage({ prog: REMOTE_PROGRAM, vers: 1, proc: procedure.number, type: MessageType.CALL, serial, status: 0 }, body);
}

/** what virsh sends for `list`, `dominfo` and `dumpxml` of a guest, and an event registration: a valid session */
function session(dom: RemoteDomain): Buffer[] {
  let serial = 0;
  return [
    call(PROC.AUTH_LIST, undefined, serial++),
    call(PROC.CONNECT_SUPPORTS_FEATURE, { feature: Feature.PROGRAM_KEEPALIVE }, serial++),
    call(PROC.CONNECT_OPEN, { name: 'guest:///system', flags: 0 }, serial++),
    keepaliveMessage(KeepaliveProc.PING),
    call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags: 0 }, serial++),
    call(PROC.DOMAIN_LOOKUP_BY_NAME, { name: dom.name }, serial++),
    call(PROC.DOMAIN_GET_STATE, { dom, flags: 0 }, serial++),
    call(PROC.DOMAIN_GET_INFO, { dom }, serial++),
    call(PROC.DOMAIN_GET_XML_DESC, { dom, flags: 0 }, serial++),
    call(PROC.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: DomainEventId.LIFECYCLE, dom: null }, serial++),
    call(PROC.CONNECT_CLOSE, undefined, serial++),
  ];
}

type Mutation = (r: Random, bytes: Buffer) => Buffer;
const MUTATIONS: Record<string, Mutation> = {
  'flip bits': (r, b) => {
    const out = Buffer.from(b);
    for (let k = r.int(1, 8); k > 0 && out.length > 0; k--) out[r.int(0, out.length - 1)]! ^= 1 << r.int(0, 7);
    return out;
  },
  'cut bytes': (r, b) => {
    const at = r.int(0, b.length);
    return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.int(1, 64)))]);
  },
  'repeat bytes': (r, b) => {
    const at = r.int(0, b.length);
    const piece = b.subarray(at, at + r.int(1, 64));
    return Buffer.concat([b.subarray(0, at), piece, piece, b.subarray(at)]);
  },
  'random header field': (r, b) => {
    const out = Buffer.from(b);
    const offsets: number[] = [];
    for (let at = 0; at + LEN_SIZE + HEADER_SIZE <= out.length; at += out.readUInt32BE(at) || out.length) offsets.push(at);
    if (offsets.length === 0) return out;
    const frame = r.pick(offsets);
    const field = r.int(1, 6); // prog, vers, proc, type, serial, status
    out.writeUInt32BE(r.pick([0, 1, 2, 3, 4, 5, 0x7fffffff, 0xffffffff, r.int(0, 0xffffffff)]), frame + 4 * field);
    return out;
  },
  'change a length': (r, b) => {
    const out = Buffer.from(b);
    const len = out.length >= 4 ? out.readUInt32BE(0) : 0;
    if (out.length >= 4) out.writeUInt32BE(r.pick([0, 1, 27, 28, len - 1, len + 1, len + r.int(2, 4096), MESSAGE_MAX + 5, 0xffffffff]) >>> 0, 0);
    return out;
  },
};

/** the daemon answers a fresh client of the read-only socket: AUTH_LIST, CONNECT_OPEN (read-only), a listing */
async function serveTime(gd: GuestdInstance): Promise<number> {
  const started = Date.now();
  const c = await RawClient.connect(gd.roSocket);
  try {
    assert.equal((await c.call(PROC.AUTH_LIST.number)).header.status, 0);
    await c.open(ConnectFlags.RO);
    const listed = await c.call(PROC.CONNECT_LIST_ALL_DOMAINS.number, encode(PROC.CONNECT_LIST_ALL_DOMAINS.args, { need_results: 1, flags: 0 }));
    assert.equal(listed.header.status, 0);
  } finally {
    c.close();
  }
  return Date.now() - started;
}

function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath, () => resolve(s));
    s.on('error', reject);
  });
}

/** write `bytes` in random pieces, read and drop whatever comes back, then end the connection one way or another */
async function sendAndLeave(r: Random, socketPath: string, bytes: Buffer): Promise<void> {
  const s = await connect(socketPath);
  s.on('error', () => undefined);
  s.on('data', () => undefined);
  for (let at = 0; at < bytes.length && !s.destroyed; ) {
    const n = r.int(1, 8192);
    s.write(bytes.subarray(at, at + n));
    at += n;
    if (r.next() < 0.1) await sleep(r.int(0, 5));
  }
  await sleep(r.int(0, 50));
  if (r.next() < 0.5) s.end();
  else s.destroy();
}

type Batch = (r: Random, gd: GuestdInstance, socketPath: string, valid: Buffer[]) => Promise<string>;
const BATCHES: Record<string, Batch> = {
  'random bytes': async (r, _gd, socketPath) => {
    const n = r.int(1, 5);
    await Promise.all(Array.from({ length: n }, () => sendAndLeave(r, socketPath, r.bytes(r.int(1, 65536)))));
    return `${n} connections`;
  },
  'random frames': async (r, _gd, socketPath) => {
    const frames = Array.from({ length: r.int(1, 50) }, () => {
      const body = r.bytes(r.int(0, 512));
      const prog = r.pick([REMOTE_PROGRAM, KEEPALIVE_PROGRAM, r.int(0, 0xffffffff)]);
      return encodeMessage({ prog, vers: r.pick([1, r.int(0, 9)]), proc: r.int(-5, 460), type: r.int(-1, 6), serial: r.int(0, 1000), status: r.int(-1, 3) }, body);
    });
    await sendAndLeave(r, socketPath, Buffer.concat(frames));
    return `${frames.length} frames`;
  },
  'mutated session': async (r, _gd, socketPath, valid) => {
    let frames = [...valid];
    if (r.next() < 0.3) frames = frames.sort(() => r.next() - 0.5);
    let bytes: Buffer = Buffer.concat(frames);
    const applied: string[] = [];
    for (let k = r.int(1, 4); k > 0; k--) {
      const name = r.pick(Object.keys(MUTATIONS));
      bytes = MUTATIONS[name]!(r, bytes);
      applied.push(name);
    }
    await sendAndLeave(r, socketPath, bytes);
    return applied.join(', ');
  },
  'bad lengths': async (r, _gd, socketPath) => {
    const length = r.pick([0, 1, 4, 27, 0x80000000, 0xffffffff, MESSAGE_MAX + LEN_SIZE + 1, r.int(28, MESSAGE_MAX + 4)]);
    const head = Buffer.alloc(28);
    head.writeUInt32BE(length >>> 0, 0);
    head.writeUInt32BE(REMOTE_PROGRAM, 4);
    head.writeUInt32BE(1, 8);
    await sendAndLeave(r, socketPath, Buffer.concat([head, r.bytes(r.int(0, 70000))]));
    return `length ${length}`;
  },
  'slow writers': async (r, gd, socketPath, valid) => {
    const writers = r.int(2, 8);
    const bytes = Buffer.concat(valid.slice(0, 3));
    let served = 0;
    const slow = Array.from({ length: writers }, async () => {
      const s = await connect(socketPath);
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      for (let at = 0; at < bytes.length; at += r.int(1, 3)) {
        s.write(bytes.subarray(at, at + 3));
        await sleep(r.int(1, 4));
      }
      s.destroy();
    });
    // others are served while the slow ones trickle
    const others = (async () => {
      for (let i = 0; i < 3; i++) {
        assert.ok((await serveTime(gd)) < LIVENESS_MS, 'a client waited behind slow writers');
        served++;
      }
    })();
    await Promise.all([...slow, others]);
    return `${writers} writers, ${served} others served meanwhile`;
  },
  'unread replies': async (r, gd, socketPath, valid) => {
    const s = await connect(socketPath);
    s.on('error', () => undefined);
    s.pause(); // never read
    // each GET_XML_DESC reply is ten times its call: a daemon that read them all would hold some 200 MB of replies
    const calls = r.int(200_000, 500_000);
    s.write(Buffer.concat([...valid.slice(0, 3), ...Array.from({ length: calls }, () => valid[8]!)]));
    // until the daemon has taken all of it, or stopped taking it
    for (let last = -1; s.writableLength > 0 && s.writableLength !== last; ) {
      last = s.writableLength;
      await sleep(500);
    }
    const during = processMemory(gd.child.pid!);
    assert.ok((await serveTime(gd)) < LIVENESS_MS, 'a client waited behind one that does not read');
    const left = s.writableLength;
    s.destroy();
    return `${calls} calls, ${mib(left)} MiB of them never taken, daemon rss ${mib(during.rss)} MiB meanwhile`;
  },
};

test('fuzzed RPC frames: the daemon stays alive, bounded, and serves others', { timeout: 3_600_000 }, async () => {
  const r = random(SUITE);
  const count = trials(14, 600);
  const gd = await startGuestd();
  const file = path.join(gd.dir, 'fuzz1.xml');
  writeFileSync(file, guestXml('fuzz1', {}, 2));
  for (const step of [['define', file], ['start', 'fuzz1']]) assert.equal((await guestctl(gd.uri, ...step)).code, 0);
  const c = await RawClient.connect(gd.roSocket);
  await c.open(ConnectFlags.RO);
  const lookup = await c.call(PROC.DOMAIN_LOOKUP_BY_NAME.number, encode(PROC.DOMAIN_LOOKUP_BY_NAME.args, { name: 'fuzz1' }));
  c.close();
  const valid = session(decode(PROC.DOMAIN_LOOKUP_BY_NAME.ret, lookup.body).dom);
  const pid = gd.child.pid!;
  const base = processMemory(pid).rss;
  // the input budget, and the garbage V8 lets pile up between collections
  const bound = base + DEFAULT_GUESTD_CONFIG.maxBufferedInput + 64 * MiB;

  const kinds = Object.keys(BATCHES);
  const figures = { batches: 0, losses: 0, slowestServeMs: 0, peakRssMiB: 0 };
  const perKind: Record<string, number> = {};
  const losses: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length]!; // every kind in turn, each with its own random draw
    const socketPath = r.next() < 0.5 ? gd.rwSocket : gd.roSocket;
    let what: string;
    try {
      what = await BATCHES[kind]!(r, gd, socketPath, valid);
    } catch (error) {
      what = `batch failed: ${(error as Error).message}`;
      losses.push(`batch ${i} (${kind}): ${what}`);
    }
    figures.batches++;
    perKind[kind] = (perKind[kind] ?? 0) + 1;
    const alive = gd.child.exitCode === null && gd.child.signalCode === null;
    let ms = Infinity;
    if (alive) ms = await serveTime(gd).catch(() => Infinity);
    const mem = alive ? processMemory(pid) : { rss: 0, hwm: 0 };
    figures.slowestServeMs = Math.max(figures.slowestServeMs, ms);
    figures.peakRssMiB = Math.max(figures.peakRssMiB, Math.round(mem.hwm / MiB));
    log(SUITE, `batch ${i} ${kind} on ${path.basename(socketPath)}: ${what}; another client served in ${ms} ms, rss ${mib(mem.rss)} MiB`);
    if (!alive) losses.push(`batch ${i} (${kind}): guestd died (${gd.child.exitCode ?? gd.child.signalCode})`);
    else if (ms >= LIVENESS_MS) losses.push(`batch ${i} (${kind}): another client was served only after ${ms} ms`);
    if (mem.hwm > bound) losses.push(`batch ${i} (${kind}): VmHWM ${mib(mem.hwm)} MiB over the bound ${mib(bound)} MiB`);
    if (/failed unexpectedly/.test(gd.stderr())) losses.push(`batch ${i} (${kind}): an unexpected failure was logged`);
    if (losses.length > 0) break;
  }
  figures.losses = losses.length;
  report(SUITE, { ...figures, boundMiB: Math.round(bound / MiB), seed: r.seed, ...perKind });
  assert.deepEqual(losses, [], `${losses.join('\n')}\nguestd log:\n${gd.stderr().slice(-4000)}`);
});
