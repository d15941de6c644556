// guestctl's Domain Management group: defining, starting, stopping and saving guests, as virsh prints it.
import type { JobProgress } from '../libvirt/job.js';
import type { GuestRef } from '../connect/connection.js';
import type { GuestAdmin } from './admin.js';
import { confirm, defineCommand, DOMAIN_ARG, JSON_OPTION, lookupDomain, row, type GuestctlCommand } from './command.js';

const FILE_ARG = { name: 'file', help: 'file containing an XML domain description', kind: 'file' } as const;
const BYPASS_CACHE = { name: 'bypass-cache', help: 'avoid the file system cache when writing or reading the save image' };

const JOB_TYPE_WORDS: Record<JobProgress['type'], string> = {
  none: 'None',
  bounded: 'Bounded',
  unbounded: 'Unbounded',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function renderJob(job: JobProgress): string {
  const mib = (b: number): string => `${(b / 1048576).toFixed(3)} MiB`;
  const lines = [row('Job type', JOB_TYPE_WORDS[job.type])];
  if (job.timeElapsedMs !== undefined) lines.push(row('Time elapsed', `${job.timeElapsedMs}         ms`));
  if (job.dataProcessed !== undefined) lines.push(row('Data processed', mib(job.dataProcessed)));
  if (job.dataRemaining !== undefined) lines.push(row('Data remaining', mib(job.dataRemaining)));
  if (job.dataTotal !== undefined) lines.push(row('Data total', mib(job.dataTotal)));
  return `${lines.join('\n')}\n`;
}

/** a command that does one thing to a guest and confirms it in virsh's words */
function lifecycleCommand(
  name: string,
  summary: string,
  description: string,
  act: (admin: GuestAdmin, guest: GuestRef) => Promise<void>,
  done: (name: string) => string,
): GuestctlCommand {
  return defineCommand({
    name,
    group: 'domain',
    summary,
    description,
    args: [DOMAIN_ARG],
    options: [],
    async run(context) {
      const admin = await context.admin();
      const guest = await lookupDomain(context);
      await act(admin, guest);
      return guest;
    },
    render: (g, view) => confirm(view, `${done(g.name)}\n`),
  });
}

export const DOMAIN_MANAGEMENT: readonly GuestctlCommand[] = [
  defineCommand({
    name: 'autostart',
    group: 'domain',
    summary: 'start the guest when the daemon starts',
    description: 'Marks the guest to be started when its daemon starts (guestd, libvirtd), or no longer with --disable.',
    args: [DOMAIN_ARG],
    options: [{ name: 'disable', help: 'disable autostarting' }],
    async run(context) {
      const admin = await context.admin();
      const guest = await lookupDomain(context);
      const autostart = !context.flag('disable');
      await admin.setAutostart(guest, autostart);
      return { ...guest, autostart };
    },
    render: (g, view) => confirm(view, `Domain '${g.name}' ${g.autostart ? 'marked as autostarted' : 'unmarked as autostarted'}\n`),
  }),
  defineCommand({
    name: 'create',
    group: 'domain',
    summary: 'create and start a transient guest from an XML file',
    description: 'Starts a guest from its XML description without defining it: it is gone once it stops.',
    args: [FILE_ARG],
    options: [],
    async run(context) {
      const file = context.arg('file');
      const xml = await context.readFile(file);
      return { ...(await (await context.admin()).createXML(xml)), file };
    },
    render: (g, view) => confirm(view, `Domain '${g.name}' created from ${g.file}\n`),
  }),
  defineCommand({
    name: 'define',
    group: 'domain',
    summary: 'define (but do not start) a guest from an XML file',
    description: 'Defines a persistent guest from its XML description; "start" starts it.',
    args: [FILE_ARG],
    options: [],
    async run(context) {
      const file = context.arg('file');
      const xml = await context.readFile(file);
      return { ...(await (await context.admin()).defineXML(xml)), file };
    },
    render: (g, view) => confirm(view, `Domain '${g.name}' defined from ${g.file}\n`),
  }),
  defineCommand({
    name: 'destroy',
    group: 'domain',
    summary: 'stop a guest at once',
    description: 'Stops a running guest at once, as pulling the power cord; its definition stays.',
    args: [DOMAIN_ARG],
    options: [],
    async run(context) {
      const guest = await lookupDomain(context);
      await (await context.connection()).destroy(guest);
      return guest;
    },
    render: (g, view) => confirm(view, `Domain '${g.name}' destroyed\n`),
  }),
  defineCommand({
    name: 'domjobinfo',
    group: 'domain',
    summary: 'progress of the running job',
    description: 'Shows the job running on the guest (a managed save): its type, time elapsed and data processed.',
    args: [DOMAIN_ARG],
    options: [JSON_OPTION],
    run: async (context) => (await context.connection()).jobInfo(await lookupDomain(context)),
    render: (job) => renderJob(job),
  }),
  defineCommand({
    name: 'dumpxml',
    group: 'domain',
    summary: 'the guest definition',
    description: 'Prints the XML description of the guest.',
    args: [DOMAIN_ARG],
    options: [],
    async run(context) {
      const admin = await context.admin();
      const guest = await lookupDomain(context);
      return { ...guest, xml: await admin.getXMLDesc(guest) };
    },
    render: ({ xml }) => (xml.endsWith('\n') ? xml : `${xml}\n`),
  }),
  defineCommand({
    name: 'managedsave',
    group: 'domain',
    summary: 'save a guest, restored on start',
    description: 'Saves the memory of a running guest to its managed save image and stops it; "start" restores it from there.',
    args: [DOMAIN_ARG],
    options: [BYPASS_CACHE],
    async run(context) {
      const guest = await lookupDomain(context);
      await (await context.connection()).managedSave(guest, { bypassCache: context.flag('bypass-cache') });
      return guest;
    },
    render: (g, view) => confirm(view, `\nDomain '${g.name}' state saved by libvirt\n`),
  }),
  defineCommand({
    name: 'managedsave-remove',
    group: 'domain',
    summary: 'remove the managed save image of a guest',
    description: 'Removes the managed save image of a guest, so that its next start boots it afresh.',
    args: [DOMAIN_ARG],
    options: [],
    async run(context) {
      const connection = await context.connection();
      const guest = await lookupDomain(context);
      const removed = await connection.hasManagedSave(guest);
      if (removed) await connection.managedSaveRemove(guest);
      return { ...guest, removed };
    },
    // virsh ends the second message without a newline: the blank line after every command closes it
    render: (g, view) =>
      confirm(view, g.removed ? `Removed managedsave image for domain '${g.name}'\n` : `Domain '${g.name}' has no manage save image; removal skipped`),
  }),
  defineCommand({
    name: 'metadata',
    group: 'domain',
    summary: 'show a custom metadata element',
    description: 'Prints the guest\'s metadata element in the namespace <uri>.',
    args: [DOMAIN_ARG, { name: 'uri', help: 'the namespace URI of the element', kind: 'text' }],
    options: [JSON_OPTION],
    async run(context) {
      const guest = await lookupDomain(context);
      const uri = context.arg('uri');
      return { ...guest, uri, metadata: await (await context.connection()).getMetadata(guest, uri) };
    },
    render: ({ metadata }) => `${metadata ?? ''}\n`,
  }),
  lifecycleCommand(
    'reboot',
    'reboot a guest',
    'Asks the guest to shut down and starts it again once it has (a process guest: a new process, the same id); returns once asked.',
    (admin, g) => admin.reboot(g),
    (n) => `Domain '${n}' is being rebooted`,
  ),
  lifecycleCommand(
    'reset',
    'reset a guest',
    'Restarts the guest at once, as the reset button: no shutdown (a process guest: killed and started again, the same id).',
    (admin, g) => admin.reset(g),
    (n) => `Domain '${n}' was reset`,
  ),
  lifecycleCommand(
    'resume',
    'resume a guest',
    'Lets a suspended (paused) guest go on where it stopped.',
    (admin, g) => admin.resume(g),
    (n) => `Domain '${n}' resumed`,
  ),
  defineCommand({
    name: 'shutdown',
    group: 'domain',
    summary: 'gracefully shut down a guest',
    description: 'Asks the guest to shut down (the power button) and returns: the guest may take its time, or ignore it.',
    args: [DOMAIN_ARG],
    options: [],
    async run(context) {
      const guest = await lookupDomain(context);
      await (await context.connection()).shutdown(guest);
      return guest;
    },
    render: (g, view) => confirm(view, `Domain '${g.name}' is being shutdown\n`),
  }),
  defineCommand({
    name: 'start',
    group: 'domain',
    summary: 'start a guest',
    description: 'Starts a defined guest: from its managed save image when it has one, else by a fresh boot.',
    args: [DOMAIN_ARG],
    options: [BYPASS_CACHE, { name: 'force-boot', help: 'discard the managed save image and boot afresh' }],
    async run(context) {
      const guest = await lookupDomain(context);
      const options = { bypassCache: context.flag('bypass-cache'), forceBoot: context.flag('force-boot') };
      return (await context.connection()).start(guest, options);
    },
    render: (g, view) => confirm(view, `Domain '${g.name}' started\n`),
  }),
  lifecycleCommand(
    'suspend',
    'suspend a guest',
    'Pauses a running guest: it keeps its memory but stops working (its memory and clock stand still) until resumed.',
    (admin, g) => admin.suspend(g),
    (n) => `Domain '${n}' suspended`,
  ),
  defineCommand({
    name: 'undefine',
    group: 'domain',
    summary: 'undefine a guest',
    description: 'Removes the definition of a guest; a running one goes on as a transient guest.',
    args: [DOMAIN_ARG],
    options: [{ name: 'managed-save', help: 'remove the managed save image too' }],
    async run(context) {
      const admin = await context.admin();
      const guest = await lookupDomain(context);
      await admin.undefine(guest, { managedSave: context.flag('managed-save') });
      return guest;
    },
    render: (g, view) => confirm(view, `Domain '${g.name}' has been undefined\n`),
  }),
];
