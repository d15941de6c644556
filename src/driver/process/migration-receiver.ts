// The destination side of a migration stream (src/guest/migration-stream.ts): listen, take one sender that shows the
// token, write the pages it sends into a save image at their place, and once the final facts come, complete the image
// (header and trailer with the sender's checksum) and answer. Restoring the guest from that image then proves the
// bytes: the restore checks them against the checksum the source computed while the guest was paused.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { BLOCK, encodeHeader, encodeTrailer, imageSize, paddedSize } from '../../guest/image.js';
import {
  FRAME,
  FRAME_HEADER,
  formatMigrationUri,
  PAGE,
  pageCount,
  type MigrationAddress,
  type MigrationFacts,
  type MigrationHello,
} from '../../guest/migration-stream.js';

export interface Expected {
  uuid: string;
  name: string;
  memoryBytes: number;
}

/** reads exact byte counts from a socket, in order */
class Reader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiting: (() => void) | null = null;
  private ended: Error | null = null;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.wake();
    });
    socket.on('close', () => {
      this.ended ??= new Error('the sender closed the connection before the end');
      this.wake();
    });
    socket.on('error', (err) => {
      this.ended = err;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  async read(n: number): Promise<Buffer> {
    while (this.buffered < n) {
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  async line(max: number): Promise<string> {
    for (;;) {
      const all = Buffer.concat(this.chunks);
      const nl = all.indexOf(0x0a);
      if (nl >= 0) {
        this.chunks = [all.subarray(nl + 1)];
        this.buffered = all.length - nl - 1;
        return all.subarray(0, nl).toString('utf8');
      }
      if (all.length > max) throw new Error('the hello line is too long');
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}

export class IncomingStream {
  readonly token = randomBytes(24).toString('hex');
  /** resolves with the final facts once the image is complete; rejects when the stream failed */
  readonly done: Promise<MigrationFacts>;
  private resolveDone!: (facts: MigrationFacts) => void;
  private rejectDone!: (err: Error) => void;
  private taken = false;
  private received = 0;

  private constructor(
    private readonly server: Server,
    readonly uri: string,
    readonly file: string,
    private readonly expected: Expected,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined); // observed by finish; never an unhandled rejection
  }

  /** listen at `address` (port 0: any free port) for the image `file` of the guest `expected` */
  static async listen(address: MigrationAddress, file: string, expected: Expected): Promise<IncomingStream> {
    let stream: IncomingStream | null = null;
    const server = createServer((socket) => stream?.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const ready = (): void => {
        server.off('error', reject);
        resolve();
      };
      if ('path' in address) server.listen(address.path, ready);
      else server.listen(address.port, address.host, ready);
    });
    const bound = server.address();
    const actual: MigrationAddress =
      'path' in address || bound === null || typeof bound === 'string' ? address : { host: address.host, port: bound.port };
    stream = new IncomingStream(server, formatMigrationUri(actual), file, expected);
    return stream;
  }

  /** where the image is written until it is complete (then renamed to `file`) */
  private get partial(): string {
    return `${this.file}.part`;
  }

  /** bytes of memory received so far */
  get bytesReceived(): number {
    return this.received;
  }

  private accept(socket: Socket): void {
    if (this.taken) {
      socket.destroy();
      return;
    }
    void this.receive(socket);
  }

  private async receive(socket: Socket): Promise<void> {
    const reader = new Reader(socket);
    let hello: MigrationHello;
    try {
      hello = JSON.parse(await reader.line(4096)) as MigrationHello;
    } catch {
      socket.destroy();
      return;
    }
    if (this.taken || hello.token !== this.token) {
      socket.destroy(); // not the sender this destination prepared for
      return;
    }
    this.taken = true;
    const { uuid, name, memoryBytes } = this.expected;
    let fh: FileHandle | null = null;
    try {
      if (hello.uuid !== uuid || hello.memoryBytes !== memoryBytes)
        throw new Error(`the stream is of guest ${hello.uuid} with ${hello.memoryBytes} bytes, expected ${uuid} with ${memoryBytes}`);
      fh = await open(this.partial, 'w', 0o600);
      await fh.truncate(imageSize(memoryBytes));
      const pages = pageCount(memoryBytes);
      let facts: MigrationFacts | null = null;
      while (!facts) {
        const head = await reader.read(FRAME_HEADER);
        const type = head.readUInt8(0);
        const a = head.readUInt32BE(1);
        const b = head.readUInt32BE(5);
        if (type === FRAME.PAGES) {
          if (b === 0 || a + b > pages) throw new Error(`pages ${a}+${b} are outside the guest's ${pages} pages`);
          const data = await reader.read(b * PAGE);
          const useful = Math.min(data.length, memoryBytes - a * PAGE);
          await fh.write(data, 0, useful, BLOCK + a * PAGE);
          this.received += data.length;
        } else if (type === FRAME.END) {
          if (a > 65536) throw new Error('the final facts are too long');
          facts = JSON.parse((await reader.read(a)).toString('utf8')) as MigrationFacts;
        } else throw new Error(`unknown frame type 0x${type.toString(16)}`);
      }
      const header = encodeHeader({
        name,
        uuid,
        memoryBytes,
        payloadBytes: paddedSize(memoryBytes),
        counter: facts.counter,
        guestTimeNs: facts.guestTimeNs,
        savedAt: new Date().toISOString(),
      });
      await fh.write(header, 0, BLOCK, 0);
      await fh.write(encodeTrailer(Buffer.from(facts.checksum, 'hex'), header), 0, BLOCK, BLOCK + paddedSize(memoryBytes));
      await fh.close();
      fh = null;
      await rename(this.partial, this.file); // complete: a runtime waiting for it restores now
      socket.end(`${JSON.stringify({ ok: true })}\n`);
      this.resolveDone(facts);
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await unlink(this.partial).catch(() => undefined);
      socket.end(`${JSON.stringify({ error: (err as Error).message })}\n`);
      this.rejectDone(err as Error);
    } finally {
      this.server.close();
    }
  }

  /** stop listening and drop a partial image (the migration was cancelled or is over) */
  async close(): Promise<void> {
    this.server.close();
    this.rejectDone(new Error('the incoming migration was cancelled'));
    if (!(await this.done.then(() => true, () => false))) await unlink(this.partial).catch(() => undefined);
  }
}
