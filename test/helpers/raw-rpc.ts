// A raw libvirt RPC client for tests: send hand-made calls (any procedure, any body) and read the replies.
import net from 'node:net';
import { encodeMessage, FrameDecoder, MessageType, type Message } from '../../src/rpc/message.js';
import { decode } from '../../src/rpc/xdr-types.js';
import { wireErrorType, type WireError } from '../../src/rpc/wire-error.js';

export const REMOTE_PROG = 0x20008086;

export class RawClient {
  private serial = 0;
  private readonly decoder = new FrameDecoder();
  private readonly waiting = new Map<number, (m: Message) => void>();
  readonly events: Message[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const m of this.decoder.push(chunk)) {
        if (m.header.type === MessageType.REPLY) {
          this.waiting.get(m.header.serial)?.(m);
          this.waiting.delete(m.header.serial);
        } else this.events.push(m);
      }
    });
  }

  static connect(socketPath: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  call(proc: number, body: Buffer = Buffer.alloc(0), prog = REMOTE_PROG, timeoutMs = 5000): Promise<Message> {
    const serial = this.serial++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to proc ${proc} within ${timeoutMs / 1000} s`)), timeoutMs);
      this.waiting.set(serial, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.socket.write(encodeMessage({ prog, vers: 1, proc, type: MessageType.CALL, serial, status: 0 }, body));
    });
  }

  /** CONNECT_OPEN with a NULL name */
  async open(flags = 0): Promise<void> {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(flags, 4);
    const reply = await this.call(1, body);
    if (reply.header.status !== 0) throw new Error(`CONNECT_OPEN failed: ${errorOf(reply).message}`);
  }

  close(): void {
    this.socket.destroy();
  }

  /** resolves when the server closes the connection */
  get closed(): Promise<void> {
    return new Promise((resolve) => (this.socket.destroyed ? resolve() : this.socket.once('close', () => resolve())));
  }
}

/**
 * Connect and send the header of a REMOTE call announcing `frameBytes`, then up to `bodyBytes` of its body, in
 * 64 KiB writes, stopping early when the server stops reading (a write not drained within 500 ms).
 */
export function holdPartialFrame(socketPath: string, frameBytes: number, bodyBytes: number): Promise<{ socket: net.Socket; sent: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath, async () => {
      const header = encodeMessage({ prog: REMOTE_PROG, vers: 1, proc: 66, type: MessageType.CALL, serial: 0, status: 0 });
      header.writeUInt32BE(frameBytes, 0);
      socket.write(header);
      const piece = Buffer.alloc(65536, 0x5a);
      let sent = 0;
      while (sent < bodyBytes && !socket.destroyed) {
        if (!socket.write(piece)) {
          const drained = await new Promise<boolean>((r) => {
            const timer = setTimeout(() => r(false), 500);
            socket.once('drain', () => (clearTimeout(timer), r(true)));
          });
          if (!drained) break;
        }
        sent += piece.length;
      }
      resolve({ socket, sent });
    });
    // after the promise settled, errors (the server closing on us) are expected: reject is then a no-op
    socket.on('error', reject);
  });
}

export function errorOf(m: Message): WireError {
  return decode(wireErrorType, m.body);
}
