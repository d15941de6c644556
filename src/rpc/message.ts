// libvirt's RPC message framing (virnetprotocol.x): u32 total length (counting itself), a 24-byte header, the
// XDR body. FrameDecoder turns a byte stream into messages whatever the chunking, and rejects lengths outside
// libvirt's limits before buffering them.
import { RpcError } from './errors.js';

export const MessageType = { CALL: 0, REPLY: 1, MESSAGE: 2, STREAM: 3, CALL_WITH_FDS: 4, REPLY_WITH_FDS: 5 } as const;
export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

/** VIR_NET_MESSAGE_MAX: largest message after the length word (virnetprotocol.x) */
export const MESSAGE_MAX = 33554432;
export const LEN_SIZE = 4;
export const HEADER_SIZE = 24;

export interface MessageHeader {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

export interface Message {
  header: MessageHeader;
  body: Buffer;
}

export function encodeMessage(header: MessageHeader, body: Buffer = Buffer.alloc(0)): Buffer {
  const total = LEN_SIZE + HEADER_SIZE + body.length;
  if (total > MESSAGE_MAX + LEN_SIZE) throw new RpcError('too-large', `message of ${total} bytes exceeds libvirt's limit`);
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(header.prog >>> 0, 4);
  out.writeUInt32BE(header.vers >>> 0, 8);
  out.writeInt32BE(header.proc, 12);
  out.writeInt32BE(header.type, 16);
  out.writeUInt32BE(header.serial >>> 0, 20);
  out.writeInt32BE(header.status, 24);
  body.copy(out, LEN_SIZE + HEADER_SIZE);
  return out;
}

/** Incremental decoder: push() chunks as they arrive, get back every complete message. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxMessage = MESSAGE_MAX) {}

  push(chunk: Buffer): Message[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Message[] = [];
    while (this.buffered >= LEN_SIZE) {
      const head = this.peek(LEN_SIZE);
      const length = head.readUInt32BE(0);
      if (length < LEN_SIZE + HEADER_SIZE) {
        throw new RpcError('protocol', `invalid message length ${length}: shorter than the ${LEN_SIZE + HEADER_SIZE}-byte header`);
      }
      if (length > this.maxMessage + LEN_SIZE) {
        throw new RpcError('too-large', `message length ${length} exceeds the maximum of ${this.maxMessage + LEN_SIZE}`);
      }
      if (this.buffered < length) break;
      const frame = this.take(length);
      out.push({
        header: {
          prog: frame.readUInt32BE(4),
          vers: frame.readUInt32BE(8),
          proc: frame.readInt32BE(12),
          type: frame.readInt32BE(16),
          serial: frame.readUInt32BE(20),
          status: frame.readInt32BE(24),
        },
        body: frame.subarray(LEN_SIZE + HEADER_SIZE),
      });
    }
    return out;
  }

  /** bytes of an incomplete message still held */
  get pending(): number {
    return this.buffered;
  }

  /** Drop what is held (the connection is gone: its buffers must not wait for the socket object to die). */
  clear(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const frame = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return frame;
  }
}
