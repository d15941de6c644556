// guestctl's Domain Monitoring group: what guests there are and how they are, as virsh prints it.
import { reasonWord, stateWord } from '../libvirt/state-words.js';
import { defineCommand, DOMAIN_ARG, JSON_OPTION, lookupDomain, row, type GuestctlCommand } from './command.js';

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const shownId = (id: number): string | number => (id === -1 ? '-' : id);

export const DOMAIN_MONITORING: readonly GuestctlCommand[] = [
  defineCommand({
    name: 'dominfo',
    group: 'monitor',
    summary: 'guest information',
    description: 'Shows the guest\'s id, uuid, state, CPUs, memory, and whether it is persistent, autostarted and saved.',
    args: [DOMAIN_ARG],
    options: [JSON_OPTION],
    async run(context) {
      const admin = await context.admin();
      const guest = await lookupDomain(context);
      const details = await admin.details(guest);
      return { ...guest, ...details, cpuTimeNs: Number(details.cpuTimeNs) };
    },
    render: (d) =>
      [
        row('Id', shownId(d.id)),
        row('Name', d.name),
        row('UUID', d.uuid),
        row('OS Type', d.osType),
        row('State', stateWord(d.state)),
        row('CPU(s)', d.vcpus),
        ...(d.id === -1 ? [] : [row('CPU time', `${(d.cpuTimeNs / 1e9).toFixed(1)}s`)]),
        row('Max memory', `${d.maxMemKiB} KiB`),
        row('Used memory', `${d.memoryKiB} KiB`),
        row('Persistent', yesNo(d.persistent)),
        row('Autostart', d.autostart ? 'enable' : 'disable'),
        row('Managed save', yesNo(d.hasManagedSave)),
        '',
      ].join('\n'),
  }),
  defineCommand({
    name: 'dommemstat',
    group: 'monitor',
    summary: 'memory statistics of a running guest',
    description: 'Prints the memory statistics of a running guest, one "name value" line each (KiB): actual, rss…',
    args: [DOMAIN_ARG],
    options: [JSON_OPTION],
    async run(context) {
      const admin = await context.admin();
      const guest = await lookupDomain(context);
      return { ...guest, stats: await admin.memoryStats(guest) };
    },
    render: ({ stats }) => stats.map((st) => `${st.name} ${st.value}\n`).join(''),
  }),
  defineCommand({
    name: 'domstate',
    group: 'monitor',
    summary: 'guest state',
    description: 'Prints the state of the guest (running, shut off, …) and, with --reason, why it is in that state.',
    args: [DOMAIN_ARG],
    options: [{ name: 'reason', help: 'also print the reason for the state' }, JSON_OPTION],
    async run(context) {
      const guest = await lookupDomain(context);
      return { ...guest, ...(await (await context.connection()).state(guest)) };
    },
    render: (s, view) => `${stateWord(s.state)}${view.flag('reason') ? ` (${reasonWord(s.state, s.reason)})` : ''}\n`,
  }),
  defineCommand({
    name: 'domtime',
    group: 'monitor',
    summary: 'get or sync the guest time',
    description: 'Prints the guest\'s clock, read through its agent; --sync sets it to the host\'s time.',
    args: [DOMAIN_ARG],
    options: [{ name: 'sync', help: 'set the guest\'s clock to the host\'s time' }, JSON_OPTION],
    async run(context) {
      const connection = await context.connection();
      const guest = await lookupDomain(context);
      if (context.flag('sync')) {
        await connection.setTime(guest, { sync: true });
        return { ...guest, synced: true as const };
      }
      return connection.getTime(guest);
    },
    // virsh ends the time without a newline: the blank line after every command closes it
    render: (t) => ('synced' in t ? '' : `Time: ${new Date(t.seconds * 1000).toISOString().replace('T', ' ').slice(0, 19)}`),
  }),
  defineCommand({
    name: 'list',
    group: 'monitor',
    summary: 'list guests',
    description: 'Lists the running guests, or all of them with --all: a table of id, name and state, or only uuids or names.',
    args: [],
    options: [
      { name: 'all', help: 'list inactive and active guests' },
      { name: 'uuid', help: 'list uuids only' },
      { name: 'name', help: 'list guest names only' },
      JSON_OPTION,
    ],
    async run(context) {
      const guests = await (await context.connection()).listGuests({ which: context.flag('all') ? 'all' : 'active' });
      return guests.map((g) => ({ id: g.id, name: g.name, uuid: g.uuid, state: g.state, persistent: g.persistent }));
    },
    render(guests, view) {
      if (view.flag('uuid') || view.flag('name')) return guests.map((g) => `${view.flag('uuid') ? g.uuid : g.name}\n`).join('');
      const rows = guests.map((g) => ` ${String(shownId(g.id)).padEnd(4)} ${g.name.padEnd(31)} ${stateWord(g.state)}\n`).join('');
      return view.quiet ? rows : ` Id   Name                            State\n${'-'.repeat(48)}\n${rows}`;
    },
  }),
];
