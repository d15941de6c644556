// guestctl's Host and Hypervisor group, as virsh prints it.
import { defineCommand, JSON_OPTION, row, type GuestctlCommand } from './command.js';

/** libvirt's version number (major·1e6 + minor·1e3 + micro) as people write it */
const dotted = (n: number): string => `${Math.floor(n / 1e6)}.${Math.floor(n / 1e3) % 1000}.${n % 1000}`;

/** virsh nodeinfo's `Label:   value` line */
const nodeRow = (label: string, value: string | number): string => `${row(label, value, 20)}\n`;

export const HOST: readonly GuestctlCommand[] = [
  defineCommand({
    name: 'capabilities',
    group: 'host',
    summary: 'capabilities',
    description: 'Prints the capabilities XML of the host: its CPUs and memory, and the kinds of guest it runs.',
    args: [],
    options: [],
    run: async (context) => ({ xml: await (await context.admin()).capabilities() }),
    render: ({ xml }) => `${xml}\n`, // virsh prints the XML, which ends its last line, and a newline
  }),
  defineCommand({
    name: 'nodeinfo',
    group: 'host',
    summary: 'node information',
    description: 'Shows the host\'s CPU model (architecture), CPUs and their topology, and memory.',
    args: [],
    options: [JSON_OPTION],
    run: async (context) => (await context.admin()).nodeInfo(),
    render: (n) =>
      nodeRow('CPU model', n.model) +
      nodeRow('CPU(s)', n.cpus) +
      nodeRow('CPU frequency', `${n.mhz} MHz`) +
      nodeRow('CPU socket(s)', n.sockets) +
      nodeRow('Core(s) per socket', n.cores) +
      nodeRow('Thread(s) per core', n.threads) +
      nodeRow('NUMA cell(s)', n.nodes) +
      nodeRow('Memory size', `${n.memoryKiB} KiB`),
  }),
  defineCommand({
    name: 'uri',
    group: 'host',
    summary: 'the URI of the connection',
    description: 'Prints the URI of the connection, after connecting to it.',
    args: [],
    options: [],
    // no procedure (virsh sends none either), but the URI must be valid and its daemon reachable
    run: async (context) => ({ uri: (await context.connection()).uri }),
    render: ({ uri }) => `${uri}\n`,
  }),
  defineCommand({
    name: 'version',
    group: 'host',
    summary: 'host and library versions',
    description: 'Prints the version of the library the daemon follows, the hypervisor\'s type and version.',
    args: [],
    options: [JSON_OPTION],
    run: async (context) => (await context.admin()).version(),
    render: (v) =>
      `Compiled against library: libvirt-guests-ts\nUsing library: libvirt ${dotted(v.libraryVersion)}\nUsing API: ${v.type} ${dotted(v.libraryVersion)}\nRunning hypervisor: ${v.type} ${dotted(v.hypervisorVersion)}\n`,
  }),
];
