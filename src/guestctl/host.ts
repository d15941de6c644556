// guestctl's Host and Hypervisor group, as virsh prints it.
import { defineCommand, JSON_OPTION, type GuestctlCommand } from './command.js';

/** libvirt's version number (major·1e6 + minor·1e3 + micro) as people write it */
const dotted = (n: number): string => `${Math.floor(n / 1e6)}.${Math.floor(n / 1e3) % 1000}.${n % 1000}`;

export const HOST: readonly GuestctlCommand[] = [
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
