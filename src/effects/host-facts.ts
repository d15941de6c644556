// What the host is, read from /proc and /sys: its CPUs and their topology, memory, firmware (SMBIOS/DMI) and
// identity. guestd reports these as libvirt does for its node info, CPU map, capabilities and sysinfo. A file that is
// missing or unreadable (a container, no DMI) leaves its fact out, or takes the one-socket default libvirt assumes.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface HostCpu {
  id: number;
  online: boolean;
  socket: number;
  die: number;
  core: number;
  /** the CPU ids sharing its core, as a list ("0,2") */
  siblings: string;
}

export interface HostFacts {
  /** uname's machine: x86_64, aarch64 */
  arch: string;
  /** "model name" of /proc/cpuinfo */
  cpuModel: string | null;
  cpuVendor: string | null;
  mhz: number;
  /** every present CPU */
  cpus: HostCpu[];
  sockets: number;
  diesPerSocket: number;
  coresPerSocket: number;
  threadsPerCore: number;
  memoryKiB: number;
  freeMemoryBytes: number;
  /** SMBIOS system uuid, else the machine id as a uuid */
  uuid: string | null;
  /** /sys/class/dmi/id entries by file name (bios_vendor, sys_vendor, product_name…) */
  dmi: Record<string, string>;
}

const read = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
};

/** "0-3,6" → [0,1,2,3,6] (the kernel's cpu list format) */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map((n) => Number.parseInt(n, 10));
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b === undefined || Number.isNaN(b) ? a : b); i++) out.push(i);
  }
  return out;
}

const DMI_FILES = [
  'bios_vendor',
  'bios_version',
  'bios_date',
  'bios_release',
  'sys_vendor',
  'product_name',
  'product_version',
  'product_serial',
  'product_uuid',
  'product_sku',
  'product_family',
  'board_vendor',
  'board_name',
  'board_version',
  'board_serial',
  'board_asset_tag',
  'chassis_vendor',
  'chassis_version',
  'chassis_serial',
  'chassis_asset_tag',
];

/** "4c4c4544…" (32 hex digits) → 8-4-4-4-12 */
const asUuid = (hex: string): string | null =>
  /^[0-9a-f]{32}$/i.test(hex) ? hex.toLowerCase().replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5') : null;

export function readHostFacts(): HostFacts {
  const sys = '/sys/devices/system/cpu';
  const present = parseCpuList(read(`${sys}/present`) ?? `0-${Math.max(0, os.cpus().length - 1)}`);
  const online = new Set(parseCpuList(read(`${sys}/online`) ?? present.join(',')));
  const num = (file: string, fallback: number): number => {
    const v = Number.parseInt(read(file) ?? '', 10);
    return Number.isNaN(v) ? fallback : v;
  };
  const cpus: HostCpu[] = present.map((id) => {
    const topo = `${sys}/cpu${id}/topology`;
    return {
      id,
      online: online.has(id),
      socket: Math.max(0, num(`${topo}/physical_package_id`, 0)),
      die: Math.max(0, num(`${topo}/die_id`, 0)),
      core: Math.max(0, num(`${topo}/core_id`, id)),
      siblings: read(`${topo}/thread_siblings_list`) ?? String(id),
    };
  });
  const count = (key: (c: HostCpu) => string): number => new Set(cpus.filter((c) => c.online).map(key)).size || 1;
  const sockets = count((c) => String(c.socket));
  const dies = count((c) => `${c.socket}/${c.die}`);
  const cores = count((c) => `${c.socket}/${c.die}/${c.core}`);
  const onlineCount = cpus.filter((c) => c.online).length || 1;

  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const field = (name: string): string | null => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim() ?? null;
  const mhz = Math.round(Number.parseFloat(field('cpu MHz') ?? '') || os.cpus()[0]?.speed || 0);

  const dmi: Record<string, string> = {};
  for (const f of DMI_FILES) {
    const v = read(`/sys/class/dmi/id/${f}`);
    if (v) dmi[f] = v;
  }
  const machineId = read('/etc/machine-id');
  const uuid = (dmi.product_uuid?.toLowerCase() ?? null) || (machineId ? asUuid(machineId) : null);

  return {
    arch: os.machine(),
    cpuModel: field('model name'),
    cpuVendor: field('vendor_id'),
    mhz,
    cpus,
    sockets,
    diesPerSocket: Math.max(1, Math.round(dies / sockets)),
    coresPerSocket: Math.max(1, Math.round(cores / dies)),
    threadsPerCore: Math.max(1, Math.round(onlineCount / cores)),
    memoryKiB: Math.floor(os.totalmem() / 1024),
    freeMemoryBytes: os.freemem(),
    uuid,
    dmi,
  };
}

/** a process's resident memory in KiB (VmRSS of /proc/PID/status), null when it is gone */
export function processRssKiB(pid: number): number | null {
  const status = read(`/proc/${pid}/status`);
  const m = status && /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : null;
}
