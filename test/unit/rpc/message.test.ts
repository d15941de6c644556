import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RpcError } from '../../../src/rpc/errors.js';
import { KeepaliveProc, keepaliveMessage } from '../../../src/rpc/keepalive.js';
import { encodeMessage, FrameDecoder, MESSAGE_MAX, MessageType } from '../../../src/rpc/message.js';

const header = { prog: 0x20008086, vers: 1, proc: 66, type: MessageType.CALL, serial: 0, status: 0 };

describe('message framing', () => {
  it('encodes the AUTH_LIST call exactly as virsh does', () => {
    assert.equal(encodeMessage(header).toString('hex'), '0000001c' + '20008086' + '00000001' + '00000042' + '00000000'.repeat(3));
  });

  it('encodes keepalive PING and PONG', () => {
    assert.equal(keepaliveMessage(KeepaliveProc.PING).toString('hex'), '0000001c6b656570000000010000000100000002' + '0000000000000000');
    assert.equal(keepaliveMessage(KeepaliveProc.PONG).toString('hex'), '0000001c6b656570000000010000000200000002' + '0000000000000000');
  });

  it('checks libvirt\'s maximum, which excludes the length word', () => {
    assert.equal(MESSAGE_MAX, 33554432);
    const d = new FrameDecoder();
    const len = Buffer.alloc(4);
    len.writeUInt32BE(MESSAGE_MAX + 4);
    assert.deepEqual(d.push(len), []); // allowed: waits for the rest
    const d2 = new FrameDecoder();
    len.writeUInt32BE(MESSAGE_MAX + 5);
    assert.throws(() => d2.push(len), (e: unknown) => e instanceof RpcError && e.failure === 'too-large');
  });

  it('decodes byte by byte, and several frames from one chunk', () => {
    const a = encodeMessage({ ...header, serial: 1 }, Buffer.from('00000001', 'hex'));
    const b = encodeMessage({ ...header, serial: 2, type: MessageType.REPLY, status: 1 });
    const all = Buffer.concat([a, b, a]);
    const d = new FrameDecoder();
    const got = [];
    for (const byte of all) got.push(...d.push(Buffer.from([byte])));
    assert.equal(got.length, 3);
    assert.deepEqual(got[0]!.header, { ...header, serial: 1 });
    assert.equal(got[0]!.body.toString('hex'), '00000001');
    assert.deepEqual(got[1]!.header, { ...header, serial: 2, type: 1, status: 1 });
    assert.equal(got[1]!.body.length, 0);
    const d2 = new FrameDecoder();
    assert.equal(d2.push(all).length, 3);
    assert.equal(d2.pending, 0);
  });

  it('keeps a partial frame until the rest arrives', () => {
    const a = encodeMessage(header, Buffer.alloc(100, 7));
    const d = new FrameDecoder();
    assert.deepEqual(d.push(a.subarray(0, 50)), []);
    assert.equal(d.pending, 50);
    const [m] = d.push(a.subarray(50));
    assert.equal(m!.body.length, 100);
  });

  it('rejects lengths shorter than a header, and 2^31', () => {
    assert.throws(() => new FrameDecoder().push(Buffer.from('0000001b', 'hex')), (e: unknown) => e instanceof RpcError && e.failure === 'protocol');
    assert.throws(() => new FrameDecoder().push(Buffer.from('00000002', 'hex')), RpcError);
    assert.throws(() => new FrameDecoder().push(Buffer.from('80000000', 'hex')), (e: unknown) => e instanceof RpcError && e.failure === 'too-large');
  });
});
