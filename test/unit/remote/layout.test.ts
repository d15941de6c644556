// Byte-exact layouts measured against real virsh/libvirtd 9.0 (reference/virsh-wire.md §2, §5, §6).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '../../../src/rpc/xdr-types.js';
import { libvirtErrorFromWire, wireErrorFrom, wireErrorType } from '../../../src/rpc/wire-error.js';
import { LibvirtError } from '../../../src/libvirt/error.js';
import { EVENT, PROC } from '../../../src/remote/protocol.js';
import { typedParamsToRecord, tp } from '../../../src/remote/types.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const str = (s: string): string => Buffer.from(s).toString('hex');
const UUID = '11111111-2222-3333-4444-555555555555';
const dom = { name: 'alpha', uuid: UUID, id: 1 };
const domHex = `00000005 ${str('alpha')}000000 11111111222233334444555555555555 00000001`;

describe('REMOTE layouts', () => {
  it('CONNECT_OPEN args', () => {
    assert.deepEqual(encode(PROC.CONNECT_OPEN.args, { name: 'guest:///system', flags: 0 }), h(`00000001 0000000f ${str('guest:///system')}00 00000000`));
    assert.deepEqual(encode(PROC.CONNECT_OPEN.args, { name: null, flags: 1 }), h('00000000 00000001'));
  });

  it('remote_nonnull_domain with a raw 16-byte uuid', () => {
    assert.deepEqual(encode(PROC.DOMAIN_LOOKUP_BY_NAME.ret, { dom }), h(domHex));
    assert.deepEqual(decode(PROC.DOMAIN_LOOKUP_BY_UUID.args, h('2f0d3ba5b58f44d198b3ef4038d28c5a')), {
      uuid: '2f0d3ba5-b58f-44d1-98b3-ef4038d28c5a',
    });
  });

  it('CONNECT_LIST_ALL_DOMAINS ret: domains then the count', () => {
    assert.deepEqual(encode(PROC.CONNECT_LIST_ALL_DOMAINS.ret, { domains: [dom], ret: 1 }), h(`00000001 ${domHex} 00000001`));
    assert.deepEqual(decode(PROC.CONNECT_LIST_ALL_DOMAINS.ret, h('00000000 00000000')), { domains: [], ret: 0 });
  });

  it('DOMAIN_GET_INFO ret is 32 bytes (uchar and ushort widened)', () => {
    const body = h('00000001 0000000000010000 0000000000010000 00000001 000000003473bc00');
    const info = decode(PROC.DOMAIN_GET_INFO.ret, body);
    assert.deepEqual(info, { state: 1, maxMem: 65536n, memory: 65536n, nrVirtCpu: 1, cpuTime: 0x3473bc00n });
    assert.deepEqual(encode(PROC.DOMAIN_GET_INFO.ret, info), body);
  });

  it('NODE_GET_SECURITY_MODEL and DOMAIN_GET_SECURITY_LABEL: 4 bytes per char', () => {
    const model = h('00000005 0000006e 0000006f 0000006e 00000065 00000000 00000002 00000030 00000000');
    assert.deepEqual(decode(PROC.NODE_GET_SECURITY_MODEL.ret, model), { model: 'none', doi: '0' });
    assert.deepEqual(encode(PROC.NODE_GET_SECURITY_MODEL.ret, { model: 'none', doi: '0' }), model);
    assert.deepEqual(encode(PROC.DOMAIN_GET_SECURITY_LABEL.ret, { label: '', enforcing: 0 }), h('00000001 00000000 00000000'));
  });

  it('DOMAIN_SET_TIME args and DOMAIN_GET_JOB_STATS ret', () => {
    assert.deepEqual(
      encode(PROC.DOMAIN_SET_TIME.args, { dom, seconds: 0n, nseconds: 0, flags: 1 }),
      h(`${domHex} 0000000000000000 00000000 00000001`),
    );
    assert.deepEqual(decode(PROC.DOMAIN_GET_JOB_STATS.ret, h('00000000 00000000')), { type: 0, params: [] });
    const params = [tp.ullong('data_total', 1000n), tp.ullong('data_processed', 250n), tp.string('x', 'y'), tp.boolean('b', true)];
    const back = decode(PROC.DOMAIN_GET_JOB_STATS.ret, encode(PROC.DOMAIN_GET_JOB_STATS.ret, { type: 1, params }));
    assert.deepEqual(typedParamsToRecord(back.params), { data_total: 1000n, data_processed: 250n, x: 'y', b: true });
  });

  it('AUTH_LIST ret and SUPPORTS_FEATURE', () => {
    assert.deepEqual(decode(PROC.AUTH_LIST.ret, h('00000001 00000000')), { types: [0] });
    assert.deepEqual(encode(PROC.CONNECT_SUPPORTS_FEATURE.args, { feature: 10 }), h('0000000a'));
  });

  it('lifecycle callback event message', () => {
    const body = h(`00000003 ${domHex} 00000002 00000001`);
    assert.deepEqual(decode(EVENT.DOMAIN_EVENT_CALLBACK_LIFECYCLE.body, body), { callbackID: 3, msg: { dom, event: 2, detail: 1 } });
  });

  it('remote_error: the real libvirtd example decodes, and ours encode as virsh accepts', () => {
    const real = h(
      `0000004a 0000000a 00000001 00000038 ${str('argument unsupported: QEMU guest agent is not configured')}` +
        `00000002 00000000 00000001 00000018 ${str('argument unsupported: %s')} 00000001 00000022 ${str('QEMU guest agent is not configured')}0000` +
        '00000000 ffffffff ffffffff 00000000',
    );
    const err = libvirtErrorFromWire(decode(wireErrorType, real));
    assert.ok(err instanceof LibvirtError);
    assert.equal(err.virCode, 74);
    assert.equal(err.virDomain, 10);
    assert.equal(err.message, 'argument unsupported: QEMU guest agent is not configured');
    const ours = encode(wireErrorType, wireErrorFrom(new LibvirtError(42, 10, 'x')));
    assert.deepEqual(ours, h(`0000002a 0000000a 00000001 00000001 78000000 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000`));
  });

  it('NODE_GET_INFO ret: char model[32] is 32 XDR ints, then memory and six ints', () => {
    const info = { model: 'x86_64', memory: 4096n, cpus: 2, mhz: 2600, nodes: 1, sockets: 1, cores: 2, threads: 1 };
    const body = encode(PROC.NODE_GET_INFO.ret, info);
    assert.equal(body.length, 32 * 4 + 8 + 6 * 4);
    assert.deepEqual(body.subarray(0, 8), h('00000078 00000038')); // 'x', '8'
    assert.deepEqual(body.subarray(6 * 4, 32 * 4), Buffer.alloc(26 * 4)); // NUL-padded
    assert.deepEqual(decode(PROC.NODE_GET_INFO.ret, body), info);
  });

  it('NODE_GET_CPU_MAP ret: a counted bitmap, the online count, the CPU count', () => {
    const ret = { cpumap: Buffer.from([0b101]), online: 2, ret: 3 };
    assert.deepEqual(encode(PROC.NODE_GET_CPU_MAP.ret, ret), h('00000001 05000000 00000002 00000003'));
  });

  it('DOMAIN_MEMORY_STATS ret: (tag, value) pairs', () => {
    const ret = { stats: [{ tag: 6, val: 4096n }] };
    assert.deepEqual(encode(PROC.DOMAIN_MEMORY_STATS.ret, ret), h('00000001 00000006 0000000000001000'));
  });

  it('DOMAIN_EVENT_CALLBACK_REBOOT: the callback id and the domain', () => {
    assert.deepEqual(encode(EVENT.DOMAIN_EVENT_CALLBACK_REBOOT.body, { callbackID: 2, msg: { dom } }), h(`00000002 ${domHex}`));
  });
});
