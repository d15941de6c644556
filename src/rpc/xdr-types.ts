// A small type-description DSL over the XDR codec: each XdrType knows how to encode and decode one value, and
// TypeScript infers the value's type from the description, so a protocol is written once as data and both ends
// (client calls, server dispatch) are typed from it.
import { XdrError } from './errors.js';
import { XdrReader, XdrWriter } from './xdr.js';

export interface XdrType<T> {
  /** for error messages */
  readonly name: string;
  /** smallest encoded size, used to bound array counts before allocating */
  readonly minSize: number;
  encode(w: XdrWriter, value: T): void;
  decode(r: XdrReader): T;
}

export type Infer<X> = X extends XdrType<infer T> ? T : never;

const make = <T>(name: string, minSize: number, encode: XdrType<T>['encode'], decode: XdrType<T>['decode']): XdrType<T> => ({
  name,
  minSize,
  encode,
  decode,
});

export const xdrVoid: XdrType<void> = make<void>('void', 0, () => undefined, () => undefined);
export const int = make<number>('int', 4, (w, v) => w.int(v), (r) => r.int());
export const uint = make<number>('unsigned int', 4, (w, v) => w.uint(v), (r) => r.uint());
export const hyper = make<bigint>('hyper', 8, (w, v) => w.hyper(v), (r) => r.hyper());
export const uhyper = make<bigint>('unsigned hyper', 8, (w, v) => w.uhyper(v), (r) => r.uhyper());
export const double = make<number>('double', 8, (w, v) => w.double(v), (r) => r.double());

/** C `unsigned char` / `unsigned short` fields: rpcgen widens them to 4 bytes on the wire; the range is checked */
const smallUnsigned = (name: string, max: number): XdrType<number> =>
  make<number>(
    name,
    4,
    (w, v) => {
      if (!Number.isInteger(v) || v < 0 || v > max) throw new XdrError(`${name} out of range: ${v}`);
      w.uint(v);
    },
    (r) => {
      const v = r.uint();
      if (v > max) throw new XdrError(`${name} out of range: ${v}`);
      return v;
    },
  );
export const uchar = smallUnsigned('unsigned char', 0xff);
export const ushort = smallUnsigned('unsigned short', 0xffff);

export const string = (max: number): XdrType<string> =>
  make<string>(`string<${max}>`, 4, (w, v) => w.string(v, max), (r) => r.string(max));

export const opaque = (length: number): XdrType<Buffer> =>
  make<Buffer>(`opaque[${length}]`, length, (w, v) => w.opaqueFixed(v, length), (r) => r.opaqueFixed(length));

/** `opaque x<MAX>`: a counted run of bytes */
export const varOpaque = (max: number): XdrType<Buffer> =>
  make<Buffer>(`opaque<${max}>`, 4, (w, v) => w.opaqueVar(v, max), (r) => r.opaqueVar(max));

/** a C string's bytes as XDR chars: signed, one 4-byte int each */
const charsOf = (text: string): number[] => Array.from(Buffer.from(text, 'utf8'), (b) => (b > 127 ? b - 256 : b));

/** XDR chars back to the C string they carry: the bytes before the first NUL */
function stringOfChars(chars: readonly number[]): string {
  const bytes = Buffer.from(chars.map((c) => c & 0xff));
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul === -1 ? bytes.length : nul).toString('utf8');
}

/**
 * `char x<MAX>` in libvirt's .x files: a variable array of *chars*, and XDR encodes each char as a 4-byte int.
 * The value is the C string it carries: encoding appends the NUL libvirt sends, decoding stops at the first NUL.
 */
export const charArray = (max: number): XdrType<string> =>
  make<string>(
    `char<${max}>`,
    4,
    (w, v) => {
      const chars = charsOf(v);
      if (chars.length + 1 > max) throw new XdrError(`char array of ${chars.length + 1} exceeds maximum ${max}`);
      w.uint(chars.length + 1);
      for (const c of chars) w.int(c);
      w.int(0);
    },
    (r) => {
      const n = r.count(max);
      return stringOfChars(Array.from({ length: n }, () => r.int()));
    },
  );

/**
 * `char x[N]`: exactly N chars, each an XDR int. The value is the C string it carries: encoding cuts it to N - 1
 * bytes and pads with NULs, decoding stops at the first NUL.
 */
export const charFixed = (length: number): XdrType<string> =>
  make<string>(
    `char[${length}]`,
    4 * length,
    (w, v) => {
      const chars = charsOf(v).slice(0, length - 1);
      for (let i = 0; i < length; i++) w.int(chars[i] ?? 0);
    },
    (r) => stringOfChars(Array.from({ length }, () => r.int())),
  );

/** `T *x`: a bool "present" flag, then the value; null when absent */
export const optional = <T>(t: XdrType<T>): XdrType<T | null> =>
  make<T | null>(
    `${t.name}*`,
    4,
    (w, v) => {
      if (v === null || v === undefined) {
        w.bool(false);
      } else {
        w.bool(true);
        t.encode(w, v);
      }
    },
    (r) => (r.bool() ? t.decode(r) : null),
  );

export const fixedArray = <T>(t: XdrType<T>, length: number): XdrType<T[]> =>
  make<T[]>(
    `${t.name}[${length}]`,
    t.minSize * length,
    (w, v) => {
      if (v.length !== length) throw new XdrError(`${t.name}[${length}] given ${v.length} items`);
      for (const item of v) t.encode(w, item);
    },
    (r) => Array.from({ length }, () => t.decode(r)),
  );

export const array = <T>(t: XdrType<T>, max: number): XdrType<T[]> =>
  make<T[]>(
    `${t.name}<${max}>`,
    4,
    (w, v) => {
      if (v.length > max) throw new XdrError(`${v.length} items exceed maximum ${max} of ${t.name}<>`);
      w.uint(v.length);
      for (const item of v) t.encode(w, item);
    },
    (r) => {
      const n = r.count(max, t.minSize);
      const out: T[] = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = t.decode(r);
      return out;
    },
  );

type Fields = Record<string, XdrType<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type StructValue<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

/** fields in declaration order (object key order) */
export const struct = <F extends Fields>(name: string, fields: F): XdrType<StructValue<F>> => {
  const entries = Object.entries(fields);
  return make<StructValue<F>>(
    name,
    entries.reduce((n, [, t]) => n + t.minSize, 0),
    (w, v) => {
      if (v === null || typeof v !== 'object') throw new XdrError(`${name}: expected an object`);
      for (const [key, t] of entries) {
        try {
          t.encode(w, (v as Record<string, unknown>)[key]);
        } catch (err) {
          throw err instanceof XdrError ? new XdrError(`${name}.${key}: ${err.message}`) : err;
        }
      }
    },
    (r) => {
      const out: Record<string, unknown> = {};
      for (const [key, t] of entries) out[key] = t.decode(r);
      return out as StructValue<F>;
    },
  );
};

/** a discriminated union over an int: `arms` maps each discriminant value to the type of its arm */
export const union = <A extends Record<number, XdrType<any>>>( // eslint-disable-line @typescript-eslint/no-explicit-any
  name: string,
  arms: A,
): XdrType<{ [K in keyof A & number]: { type: K; value: Infer<A[K]> } }[keyof A & number]> =>
  make(
    name,
    4,
    (w, v) => {
      const arm = arms[v.type];
      if (!arm) throw new XdrError(`${name}: no arm for discriminant ${v.type}`);
      w.int(v.type);
      arm.encode(w, v.value);
    },
    (r) => {
      const type = r.int();
      const arm = arms[type];
      if (!arm) throw new XdrError(`${name}: unknown discriminant ${type}`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { type, value: arm.decode(r) } as any;
    },
  );

/** a value mapped to and from another representation (e.g. a 16-byte uuid shown as its canonical string) */
export const mapped = <W, V>(t: XdrType<W>, name: string, to: (v: V) => W, from: (w: W) => V): XdrType<V> =>
  make<V>(name, t.minSize, (w, v) => t.encode(w, to(v)), (r) => from(t.decode(r)));

export function encode<T>(t: XdrType<T>, value: T): Buffer {
  const w = new XdrWriter();
  t.encode(w, value);
  return w.toBuffer();
}

/** decode a whole body; trailing bytes are tolerated as libvirt's own decoder does */
export function decode<T>(t: XdrType<T>, body: Buffer): T {
  return t.decode(new XdrReader(body));
}
