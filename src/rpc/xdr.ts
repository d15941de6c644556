// XDR (RFC 4506) primitives as libvirt uses them: everything big-endian and padded to 4 bytes. The reader checks
// every length against the bytes left and the declared maximum before allocating, so hostile input fails with
// XdrError instead of a RangeError or an oversized allocation.
import { XdrError } from './errors.js';

const INT_MIN = -0x80000000;
const INT_MAX = 0x7fffffff;
const UINT_MAX = 0xffffffff;
const HYPER_MIN = -(1n << 63n);
const HYPER_MAX = (1n << 63n) - 1n;
const UHYPER_MAX = (1n << 64n) - 1n;

const pad = (n: number): number => (4 - (n % 4)) % 4;

export class XdrWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.alloc(initialSize);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(v: number): this {
    if (!Number.isInteger(v) || v < INT_MIN || v > INT_MAX) throw new XdrError(`int out of range: ${v}`);
    this.reserve(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > UINT_MAX) throw new XdrError(`unsigned int out of range: ${v}`);
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  hyper(v: bigint): this {
    if (v < HYPER_MIN || v > HYPER_MAX) throw new XdrError(`hyper out of range: ${v}`);
    this.reserve(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  uhyper(v: bigint): this {
    if (v < 0n || v > UHYPER_MAX) throw new XdrError(`unsigned hyper out of range: ${v}`);
    this.reserve(8);
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.int(v ? 1 : 0);
  }

  double(v: number): this {
    this.reserve(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** fixed-length opaque: exactly `length` bytes, padded */
  opaqueFixed(data: Uint8Array, length: number): this {
    if (data.length !== length) throw new XdrError(`opaque[${length}] given ${data.length} bytes`);
    return this.raw(data, true);
  }

  /** variable-length opaque: u32 count, bytes, padding */
  opaqueVar(data: Uint8Array, max: number): this {
    if (data.length > max) throw new XdrError(`opaque of ${data.length} bytes exceeds maximum ${max}`);
    this.uint(data.length);
    return this.raw(data, true);
  }

  /** UTF-8 string: u32 byte count (no NUL), bytes, padding */
  string(s: string, max: number): this {
    const length = Buffer.byteLength(s, 'utf8');
    if (length > max) throw new XdrError(`string of ${length} bytes exceeds maximum ${max}`);
    this.uint(length);
    // written in place, no intermediate buffer (lists carry thousands of names)
    const p = pad(length);
    this.reserve(length + p);
    this.pos += this.buf.write(s, this.pos, length, 'utf8');
    this.buf.fill(0, this.pos, this.pos + p);
    this.pos += p;
    return this;
  }

  private raw(data: Uint8Array, padded: boolean): this {
    const p = padded ? pad(data.length) : 0;
    this.reserve(data.length + p);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    this.buf.fill(0, this.pos, this.pos + p);
    this.pos += p;
    return this;
  }

  get length(): number {
    return this.pos;
  }

  /** the bytes written so far (a copy, so the writer can be reused) */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class XdrReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new XdrError(`truncated XDR data: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
  }

  int(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint(): number {
    this.need(4, 'unsigned int');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  hyper(): bigint {
    this.need(8, 'hyper');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  uhyper(): bigint {
    this.need(8, 'unsigned hyper');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** XDR bool: only 0 and 1 are valid */
  bool(): boolean {
    const v = this.int();
    if (v !== 0 && v !== 1) throw new XdrError(`invalid bool value ${v} at offset ${this.pos - 4}`);
    return v === 1;
  }

  double(): number {
    this.need(8, 'double');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  opaqueFixed(length: number): Buffer {
    this.need(length + pad(length), `opaque[${length}]`);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + length));
    this.pos += length + pad(length);
    return out;
  }

  opaqueVar(max: number): Buffer {
    const length = this.uint();
    if (length > max) throw new XdrError(`opaque length ${length} exceeds maximum ${max}`);
    return this.opaqueFixed(length);
  }

  string(max: number): string {
    const length = this.uint();
    if (length > max) throw new XdrError(`string length ${length} exceeds maximum ${max}`);
    this.need(length + pad(length), `string of ${length} bytes`);
    const out = this.buf.toString('utf8', this.pos, this.pos + length); // decoded in place, no copy first
    this.pos += length + pad(length);
    return out;
  }

  /** an array count, checked against the maximum and against what is left (each item takes at least 4 bytes) */
  count(max: number, minItemSize = 4): number {
    const n = this.uint();
    if (n > max) throw new XdrError(`array length ${n} exceeds maximum ${max}`);
    this.need(n * minItemSize, `array of ${n}`);
    return n;
  }
}
