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

  call(proc: number, body: Buffer = Buffer.alloc(0), prog = REMOTE_PROG): Promise<Message> {
    const serial = this.serial++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to proc ${proc} within 5 s`)), 5000);
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
}

export function errorOf(m: Message): WireError {
  return decode(wireErrorType, m.body);
}
