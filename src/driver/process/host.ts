// The host as the process driver reports it, from the host's own facts (src/effects/host-facts.ts): node info, the
// CPU map, free memory, the capabilities XML (the host's CPU topology and memory, and one guest kind: os_type 'exe',
// domain type 'process'), the domain capabilities and the SMBIOS sysinfo, in libvirt's formats.
import { readHostFacts, type HostFacts } from '../../effects/host-facts.js';
import type { CpuMap, DomainCapabilitiesQuery, NodeInfo } from '../driver.js';
import { invalidArg } from './errors.js';
import { runtimeCommand } from './launcher.js';
import { DOMAIN_TYPE, MAX_VCPUS, OS_TYPE } from './xml/domain.js';
import { escapeText } from './xml/tree.js';

const WORDSIZE: Record<string, number> = { x86_64: 64, aarch64: 64, ppc64le: 64, s390x: 64, riscv64: 64, i686: 32, armv7l: 32 };

/** the program a process guest runs: node with the guest runtime (the <emulator> of the capabilities) */
const emulatorPath = (): string => runtimeCommand().args.at(-1) ?? runtimeCommand().execPath;

export class Host {
  constructor(private readonly facts: () => HostFacts = readHostFacts) {}

  nodeInfo(): NodeInfo {
    const f = this.facts();
    return {
      model: f.arch,
      memoryKiB: f.memoryKiB,
      cpus: f.cpus.filter((c) => c.online).length,
      mhz: f.mhz,
      nodes: 1,
      sockets: f.sockets,
      cores: f.coresPerSocket * f.diesPerSocket,
      threads: f.threadsPerCore,
    };
  }

  cpuMap(): CpuMap {
    const f = this.facts();
    return { cpus: Math.max(...f.cpus.map((c) => c.id)) + 1, online: f.cpus.filter((c) => c.online).map((c) => c.id) };
  }

  freeMemoryBytes(): number {
    return this.facts().freeMemoryBytes;
  }

  capabilities(): string {
    const f = this.facts();
    const online = f.cpus.filter((c) => c.online);
    const lines = [
      '<capabilities>',
      '',
      '  <host>',
      ...(f.uuid ? [`    <uuid>${f.uuid}</uuid>`] : []),
      '    <cpu>',
      `      <arch>${f.arch}</arch>`,
      ...(f.cpuVendor ? [`      <vendor>${escapeText(f.cpuVendor)}</vendor>`] : []),
      `      <topology sockets='${f.sockets}' dies='${f.diesPerSocket}' cores='${f.coresPerSocket}' threads='${f.threadsPerCore}'/>`,
      '    </cpu>',
      '    <power_management/>',
      "    <iommu support='no'/>",
      '    <topology>',
      "      <cells num='1'>",
      "        <cell id='0'>",
      `          <memory unit='KiB'>${f.memoryKiB}</memory>`,
      `          <cpus num='${online.length}'>`,
      ...online.map(
        (c) => `            <cpu id='${c.id}' socket_id='${c.socket}' die_id='${c.die}' core_id='${c.core}' siblings='${c.siblings}'/>`,
      ),
      '          </cpus>',
      '        </cell>',
      '      </cells>',
      '    </topology>',
      '  </host>',
      '',
      '  <guest>',
      `    <os_type>${OS_TYPE}</os_type>`,
      `    <arch name='${f.arch}'>`,
      `      <wordsize>${WORDSIZE[f.arch] ?? 64}</wordsize>`,
      `      <emulator>${escapeText(emulatorPath())}</emulator>`,
      `      <domain type='${DOMAIN_TYPE}'/>`,
      '    </arch>',
      '  </guest>',
      '',
      '</capabilities>',
    ];
    return `${lines.join('\n')}\n`;
  }

  /** libvirt refuses what it cannot describe; guestd has one kind of guest, on the host's arch, without machines */
  domainCapabilities(query: DomainCapabilitiesQuery): string {
    const f = this.facts();
    if (query.virttype !== null && query.virttype !== DOMAIN_TYPE)
      throw invalidArg(`virttype '${query.virttype}' is not supported: guestd's guests are of type '${DOMAIN_TYPE}'`);
    if (query.arch !== null && query.arch !== f.arch)
      throw invalidArg(`architecture '${query.arch}' is not supported: guestd runs guests on the host's, '${f.arch}'`);
    if (query.machine !== null) throw invalidArg(`machine '${query.machine}' is not supported: process guests have no machine type`);
    const lines = [
      '<domainCapabilities>',
      `  <path>${escapeText(emulatorPath())}</path>`,
      `  <domain>${DOMAIN_TYPE}</domain>`,
      `  <arch>${f.arch}</arch>`,
      `  <vcpu max='${MAX_VCPUS}'/>`,
      "  <iothreads supported='no'/>",
      "  <os supported='yes'>",
      "    <loader supported='no'/>",
      '  </os>',
      '  <cpu>',
      "    <mode name='host-passthrough' supported='no'/>",
      "    <mode name='maximum' supported='no'/>",
      "    <mode name='host-model' supported='no'/>",
      "    <mode name='custom' supported='no'/>",
      '  </cpu>',
      "  <memoryBacking supported='no'/>",
      '  <devices>',
      "    <disk supported='no'/>",
      "    <graphics supported='no'/>",
      "    <video supported='no'/>",
      "    <hostdev supported='no'/>",
      "    <rng supported='no'/>",
      "    <filesystem supported='no'/>",
      "    <tpm supported='no'/>",
      '  </devices>',
      '  <features>',
      "    <gic supported='no'/>",
      "    <vmcoreinfo supported='no'/>",
      "    <genid supported='no'/>",
      "    <sev supported='no'/>",
      '  </features>',
      '</domainCapabilities>',
    ];
    return `${lines.join('\n')}\n`;
  }

  /** the host's SMBIOS tables, as libvirt's <sysinfo type='smbios'> (what /sys/class/dmi/id shows) */
  sysinfo(): string {
    const f = this.facts();
    const section = (tag: string, entries: [string, string | null | undefined][]): string[] => {
      const present = entries.filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
      if (present.length === 0) return [];
      return [
        `  <${tag}>`,
        ...present.map(([name, value]) => `    <entry name='${name}'>${escapeText(value)}</entry>`),
        `  </${tag}>`,
      ];
    };
    const d = f.dmi;
    const lines = [
      "<sysinfo type='smbios'>",
      ...section('bios', [
        ['vendor', d.bios_vendor],
        ['version', d.bios_version],
        ['date', d.bios_date],
        ['release', d.bios_release],
      ]),
      ...section('system', [
        ['manufacturer', d.sys_vendor],
        ['product', d.product_name],
        ['version', d.product_version],
        ['serial', d.product_serial],
        ['uuid', d.product_uuid ?? f.uuid],
        ['sku', d.product_sku],
        ['family', d.product_family],
      ]),
      ...section('baseBoard', [
        ['manufacturer', d.board_vendor],
        ['product', d.board_name],
        ['version', d.board_version],
        ['serial', d.board_serial],
        ['asset', d.board_asset_tag],
      ]),
      ...section('chassis', [
        ['manufacturer', d.chassis_vendor],
        ['version', d.chassis_version],
        ['serial', d.chassis_serial],
        ['asset', d.chassis_asset_tag],
      ]),
      ...section('processor', [
        ['manufacturer', f.cpuVendor],
        ['version', f.cpuModel],
        ['max_speed', f.mhz ? `${f.mhz} MHz` : null],
      ]),
      ...section('memory_device', [['size', `${Math.round(f.memoryKiB / 1024)} MB`]]),
      '</sysinfo>',
    ];
    return `${lines.join('\n')}\n`;
  }
}
