// The process driver's host reports (node info, CPU map, capabilities, domain capabilities, sysinfo) over given facts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpuList, type HostFacts } from '../../../src/effects/host-facts.js';
import { Host } from '../../../src/driver/process/host.js';
import { LibvirtError, VirErr } from '../../../src/libvirt/error.js';

const facts: HostFacts = {
  arch: 'x86_64',
  cpuModel: 'AMD EPYC <test>',
  cpuVendor: 'AuthenticAMD',
  mhz: 2600,
  cpus: [
    { id: 0, online: true, socket: 0, die: 0, core: 0, siblings: '0,2' },
    { id: 1, online: true, socket: 0, die: 0, core: 1, siblings: '1,3' },
    { id: 2, online: true, socket: 0, die: 0, core: 0, siblings: '0,2' },
    { id: 3, online: false, socket: 0, die: 0, core: 1, siblings: '1,3' },
  ],
  sockets: 1,
  diesPerSocket: 1,
  coresPerSocket: 2,
  threadsPerCore: 2,
  memoryKiB: 8_000_000,
  freeMemoryBytes: 1_000_000,
  uuid: '11111111-2222-3333-4444-555555555555',
  dmi: { bios_vendor: 'SeaBIOS', sys_vendor: 'QEMU & co' },
};
const host = new Host(() => facts);
const throwsVir = (code: number, words: RegExp) => (err: unknown) =>
  err instanceof LibvirtError && err.virCode === code && words.test(err.message);

describe('the host as the process driver reports it', () => {
  it('the kernel cpu list format', () => {
    assert.deepEqual(parseCpuList('0-3,6'), [0, 1, 2, 3, 6]);
    assert.deepEqual(parseCpuList('0'), [0]);
    assert.deepEqual(parseCpuList(''), []);
  });

  it('node info counts the online CPUs; the CPU map marks them among all there can be', () => {
    assert.deepEqual(host.nodeInfo(), { model: 'x86_64', memoryKiB: 8_000_000, cpus: 3, mhz: 2600, nodes: 1, sockets: 1, cores: 2, threads: 2 });
    assert.deepEqual(host.cpuMap(), { cpus: 4, online: [0, 1, 2] });
  });

  it('capabilities: the host topology and one guest kind (exe, process)', () => {
    const caps = host.capabilities();
    assert.match(caps, /<uuid>11111111-2222-3333-4444-555555555555<\/uuid>/);
    assert.match(caps, /<topology sockets='1' dies='1' cores='2' threads='2'\/>/);
    assert.match(caps, /<cpus num='3'>/);
    assert.match(caps, /<cpu id='2' socket_id='0' die_id='0' core_id='0' siblings='0,2'\/>/);
    assert.match(caps, /<os_type>exe<\/os_type>\n {4}<arch name='x86_64'>/);
    assert.match(caps, /<domain type='process'\/>/);
  });

  it('domain capabilities refuse what guestd cannot run', () => {
    const any = { emulatorbin: null, arch: null, machine: null, virttype: null };
    assert.match(host.domainCapabilities(any), /<domain>process<\/domain>/);
    assert.match(host.domainCapabilities({ ...any, virttype: 'process', arch: 'x86_64' }), /<arch>x86_64<\/arch>/);
    assert.throws(() => host.domainCapabilities({ ...any, virttype: 'kvm' }), throwsVir(VirErr.INVALID_ARG, /virttype 'kvm'/));
    assert.throws(() => host.domainCapabilities({ ...any, arch: 'aarch64' }), throwsVir(VirErr.INVALID_ARG, /'aarch64'/));
    assert.throws(() => host.domainCapabilities({ ...any, machine: 'pc' }), throwsVir(VirErr.INVALID_ARG, /machine 'pc'/));
  });

  it('sysinfo: the SMBIOS sections there are, escaped', () => {
    const info = host.sysinfo();
    assert.match(info, /^<sysinfo type='smbios'>\n {2}<bios>\n {4}<entry name='vendor'>SeaBIOS<\/entry>/);
    assert.match(info, /<entry name='manufacturer'>QEMU &amp; co<\/entry>/);
    assert.match(info, /<entry name='version'>AMD EPYC &lt;test&gt;<\/entry>/);
    assert.doesNotMatch(info, /<baseBoard>/);
  });
});
