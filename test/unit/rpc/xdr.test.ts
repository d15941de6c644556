import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XdrError } from '../../../src/rpc/errors.js';
import { XdrReader, XdrWriter } from '../../../src/rpc/xdr.js';
import * as X from '../../../src/rpc/xdr-types.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('XdrWriter / XdrReader', () => {
  it('encodes ints, unsigned ints and hypers big-endian', () => {
    const w = new XdrWriter(1); // grows
    w.int(-1).uint(0xfffffffe).hyper(-2n).uhyper(0x0102030405060708n).bool(true);
    assert.equal(hex(w.toBuffer()), 'ffffffff' + 'fffffffe' + 'fffffffffffffffe' + '0102030405060708' + '00000001');
    const r = new XdrReader(w.toBuffer());
    assert.equal(r.int(), -1);
    assert.equal(r.uint(), 0xfffffffe);
    assert.equal(r.hyper(), -2n);
    assert.equal(r.uhyper(), 0x0102030405060708n);
    assert.equal(r.bool(), true);
    assert.equal(r.remaining, 0);
  });

  it('pads strings and opaque data to 4 bytes without counting the padding', () => {
    const w = new XdrWriter().string('guest:///system', 100).opaqueVar(Buffer.from([1, 2]), 10);
    assert.equal(hex(w.toBuffer()), '0000000f' + Buffer.from('guest:///system').toString('hex') + '00' + '00000002' + '01020000');
    const r = new XdrReader(w.toBuffer());
    assert.equal(r.string(100), 'guest:///system');
    assert.deepEqual([...r.opaqueVar(10)], [1, 2]);
  });

  it('rejects values outside their type', () => {
    assert.throws(() => new XdrWriter().int(2 ** 31), XdrError);
    assert.throws(() => new XdrWriter().uint(-1), XdrError);
    assert.throws(() => new XdrWriter().int(1.5), XdrError);
    assert.throws(() => new XdrWriter().uhyper(-1n), XdrError);
    assert.throws(() => new XdrWriter().hyper(1n << 63n), XdrError);
  });

  it('rejects a string longer than its maximum on both ends', () => {
    assert.throws(() => new XdrWriter().string('abcde', 4), /exceeds maximum 4/);
    const body = new XdrWriter().string('abcde', 10).toBuffer();
    assert.throws(() => new XdrReader(body).string(4), (e: unknown) => e instanceof XdrError && /exceeds maximum/.test(e.message));
  });

  it('rejects truncated input with XdrError, never a RangeError', () => {
    assert.throws(() => new XdrReader(Buffer.from([0, 0, 0])).int(), XdrError);
    assert.throws(() => new XdrReader(Buffer.alloc(7)).hyper(), XdrError);
    // length says 8, only 4 bytes follow
    assert.throws(() => new XdrReader(Buffer.from('000000086162636400', 'hex')).string(100), /truncated/);
    // a huge declared count must fail before allocating
    assert.throws(() => X.array(X.int, 1 << 30).decode(new XdrReader(Buffer.from('0fffffff', 'hex'))), /truncated/);
  });

  it('rejects a bool that is neither 0 nor 1', () => {
    assert.throws(() => new XdrReader(Buffer.from('00000002', 'hex')).bool(), XdrError);
  });
});

describe('XDR type combinators', () => {
  it('optional pointer: 0 for NULL, 1 then the value', () => {
    const t = X.optional(X.string(100));
    assert.equal(hex(X.encode(t, null)), '00000000');
    assert.equal(hex(X.encode(t, 'ab')), '00000001' + '00000002' + '61620000');
    assert.equal(X.decode(t, Buffer.from('00000000', 'hex')), null);
    assert.equal(X.decode(t, X.encode(t, 'ab')), 'ab');
  });

  it('structs keep field order and type their values', () => {
    const t = X.struct('s', { a: X.int, b: X.uhyper, c: X.array(X.uint, 3) });
    const v = { a: 7, b: 9n, c: [1, 2] };
    assert.equal(hex(X.encode(t, v)), '00000007' + '0000000000000009' + '00000002' + '00000001' + '00000002');
    assert.deepEqual(X.decode(t, X.encode(t, v)), v);
  });

  it('variable arrays check their maximum; fixed arrays their length', () => {
    assert.throws(() => X.encode(X.array(X.int, 2), [1, 2, 3]), XdrError);
    assert.throws(() => X.decode(X.array(X.int, 2), Buffer.from('00000003' + '00000000'.repeat(3), 'hex')), /exceeds maximum 2/);
    assert.throws(() => X.encode(X.fixedArray(X.int, 2), [1]), XdrError);
    assert.deepEqual(X.decode(X.fixedArray(X.int, 2), Buffer.from('0000000100000002', 'hex')), [1, 2]);
  });

  it('char arrays take 4 bytes per char and carry the NUL (libvirt trap)', () => {
    const t = X.charArray(257);
    assert.equal(hex(X.encode(t, 'none')), '00000005' + '0000006e' + '0000006f' + '0000006e' + '00000065' + '00000000');
    assert.equal(X.decode(t, Buffer.from('00000002' + '00000030' + '00000000', 'hex')), '0');
    assert.equal(X.decode(t, Buffer.from('00000001' + '00000000', 'hex')), '');
    assert.throws(() => X.encode(X.charArray(3), 'abc'), XdrError);
  });

  it('fixed char arrays take exactly N chars: cut to N - 1 and NUL-padded, read up to the first NUL', () => {
    const t = X.charFixed(4);
    assert.equal(hex(X.encode(t, 'ab')), '00000061' + '00000062' + '00000000' + '00000000');
    assert.equal(hex(X.encode(t, 'abcdef')), '00000061' + '00000062' + '00000063' + '00000000');
    assert.equal(X.decode(t, Buffer.from('00000061' + '00000000' + '00000063' + '00000000', 'hex')), 'a');
    assert.equal(X.decode(t, Buffer.from('000000c3' + '000000a9' + '00000000' + '00000000', 'hex')), 'é');
  });

  it('unsigned char and short take 4 bytes and are range checked', () => {
    assert.equal(hex(X.encode(X.uchar, 5)), '00000005');
    assert.equal(hex(X.encode(X.ushort, 0xffff)), '0000ffff');
    assert.throws(() => X.encode(X.uchar, 256), XdrError);
    assert.throws(() => X.decode(X.ushort, Buffer.from('00010000', 'hex')), XdrError);
  });

  it('unions encode the discriminant and refuse unknown arms', () => {
    const t = X.union('u', { 1: X.int, 7: X.string(10) });
    assert.equal(hex(X.encode(t, { type: 7, value: 'x' })), '00000007' + '00000001' + '78000000');
    assert.deepEqual(X.decode(t, Buffer.from('00000001ffffffff', 'hex')), { type: 1, value: -1 });
    assert.throws(() => X.decode(t, Buffer.from('0000000200000000', 'hex')), /unknown discriminant 2/);
  });

  it('fixed opaque has no length prefix', () => {
    const b = Buffer.alloc(16, 0x11);
    assert.equal(hex(X.encode(X.opaque(16), b)), '11'.repeat(16));
    assert.throws(() => X.encode(X.opaque(16), Buffer.alloc(15)), XdrError);
  });
});
