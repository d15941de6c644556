// The source side of a migration, inside the guest runtime (which holds the memory): connect to the destination,
// send every page while the guest runs, then the pages it wrote meanwhile, pass after pass, until what is left is
// small; pause the guest, send the rest and the final facts, and wait for the destination's answer. Without `live`
// the guest is paused first and everything is sent once.
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { DirtyLog } from './dirty-log.js';
import type { GuestMemory } from './memory.js';
import {
  endFrame,
  pageCount,
  pagesFrame,
  PAGE,
  type MigrationAddress,
  type MigrationAnswer,
  type MigrationFacts,
  type MigrationHello,
} from './migration-stream.js';
import { pacer } from './pace.js';

/** pages per frame: 1 MiB */
const RUN_PAGES = 256;

export interface SendOptions {
  address: MigrationAddress;
  hello: MigrationHello;
  memory: GuestMemory;
  live: boolean;
  /** throttle, MiB/s; 0: as fast as the connection takes it */
  mibPerSecond: number;
  /** pause the guest for the last pass; returns its clock at that moment */
  pause: () => { guestTimeNs: string };
  aborted: () => boolean;
  onProgress: (sentBytes: number, remainingBytes: number) => void;
  /** stop iterating once no more pages than this are dirty (default 64) */
  convergePages?: number;
  /** at most this many passes while the guest runs (default 8) */
  maxPasses?: number;
}

export interface SendResult {
  bytes: number;
  /** passes while the guest ran (the paused one not counted) */
  passes: number;
  /** Date.now() when the guest was paused */
  pausedAt: number;
  facts: MigrationFacts;
}

export class MigrationAborted extends Error {}

function open(address: MigrationAddress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in address ? connect(address.path) : connect(address.port, address.host);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** the socket took what was written, or closed */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

export async function sendMigration(o: SendOptions): Promise<SendResult> {
  const { memory } = o;
  const pages = pageCount(memory.bytes.length);
  const socket = await open(o.address);
  let failure: Error | null = null;
  socket.on('error', (err) => (failure ??= err));
  const answer = new Promise<MigrationAnswer>((resolve) => {
    const lines = createInterface({ input: socket });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as MigrationAnswer);
      } catch {
        resolve({ error: `unreadable answer from the destination: ${line.slice(0, 200)}` });
      }
    });
    lines.on('error', () => undefined);
    socket.once('close', () => resolve({ error: failure?.message ?? 'the destination closed the connection' }));
  });
  const pace = pacer(o.mibPerSecond, Date.now());
  let bytes = 0;
  const write = async (chunk: Buffer): Promise<void> => {
    if (failure) throw failure;
    if (o.aborted()) throw new MigrationAborted('migration cancelled');
    bytes += chunk.length;
    if (!socket.write(chunk)) await drained(socket);
    await pace(bytes);
  };
  const sendRuns = async (runs: Array<[number, number]>, remaining: () => number): Promise<void> => {
    for (const [first, count] of runs) {
      const data = Buffer.alloc(count * PAGE); // a copy: the guest goes on writing its memory
      memory.bytes.copy(data, 0, first * PAGE, Math.min(memory.bytes.length, (first + count) * PAGE));
      await write(pagesFrame(first, count));
      await write(data);
      o.onProgress(bytes, remaining() * PAGE);
    }
  };
  const log = new DirtyLog(pages);
  let passes = 0;
  try {
    await write(Buffer.from(`${JSON.stringify(o.hello)}\n`));
    if (o.live) {
      memory.dirtyLog = log;
      const converge = o.convergePages ?? 64;
      const maxPasses = o.maxPasses ?? 8;
      while (log.size > converge && passes < maxPasses) {
        passes += 1;
        await sendRuns(log.take(RUN_PAGES), () => log.size);
      }
    }
    const { guestTimeNs } = o.pause();
    const pausedAt = Date.now();
    memory.dirtyLog = null;
    await sendRuns(log.take(RUN_PAGES), () => 0);
    const facts: MigrationFacts = { counter: memory.counter, guestTimeNs, checksum: memory.checksum() };
    await write(endFrame(facts));
    const reply = await answer;
    if ('error' in reply) throw new Error(`the destination refused the migration: ${reply.error}`);
    return { bytes, passes, pausedAt, facts };
  } finally {
    memory.dirtyLog = null;
    socket.destroy();
  }
}
