// guestctl's commands over a Connection: each returns one result object; `text` renders it the way virsh prints
// it, `--json` prints the object. No sockets here: the connection and file reading are passed in.
import { reasonWord, stateWord } from '../connect/state-words.js';
import type { Connection, GuestRef, JobProgress } from '../connect/connection.js';
import { requireAdmin } from './admin.js';
import type { Invocation } from './args.js';

export interface CommandResult {
  data: unknown;
  text: string;
}

export interface CommandIo {
  readFile(file: string): Promise<string>;
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const row = (label: string, value: string | number): string => `${`${label}:`.padEnd(16)}${value}`;

async function guest(connection: Connection, name: string): Promise<GuestRef> {
  return connection.lookup(name);
}

export async function runCommand(inv: Invocation, connection: Connection, io: CommandIo): Promise<CommandResult> {
  const domain = inv.args.domain ?? '';
  const f = inv.flags;
  switch (inv.command) {
    case 'list': {
      const guests = await connection.listGuests({ which: f.all ? 'all' : 'active' });
      const data = guests.map((g) => ({ id: g.id, name: g.name, uuid: g.uuid, state: g.state, persistent: g.persistent }));
      let text: string;
      if (f.uuid || f.name) text = guests.map((g) => (f.uuid ? g.uuid : g.name)).join('\n') + (guests.length ? '\n' : '');
      else {
        const lines = guests.map((g) => ` ${String(g.id === -1 ? '-' : g.id).padEnd(4)} ${g.name.padEnd(31)} ${stateWord(g.state)}`);
        text = [' Id   Name                            State', '-'.repeat(48), ...lines, ''].join('\n') + '\n';
      }
      return { data, text };
    }
    case 'dominfo': {
      const admin = requireAdmin(connection, 'dominfo');
      const g = await guest(connection, domain);
      const d = await admin.details(g);
      const data = { ...g, ...d, cpuTimeNs: Number(d.cpuTimeNs) };
      const text = [
        row('Id', g.id === -1 ? '-' : g.id),
        row('Name', g.name),
        row('UUID', g.uuid),
        row('OS Type', d.osType),
        row('State', stateWord(d.state)),
        row('CPU(s)', d.vcpus),
        ...(g.id === -1 ? [] : [row('CPU time', `${(Number(d.cpuTimeNs) / 1e9).toFixed(1)}s`)]),
        row('Max memory', `${d.maxMemKiB} KiB`),
        row('Used memory', `${d.memoryKiB} KiB`),
        row('Persistent', yesNo(d.persistent)),
        row('Autostart', d.autostart ? 'enable' : 'disable'),
        row('Managed save', yesNo(d.hasManagedSave)),
        '',
      ].join('\n');
      return { data, text: `${text}\n` };
    }
    case 'domstate': {
      const g = await guest(connection, domain);
      const s = await connection.state(g);
      return { data: { ...g, ...s }, text: `${stateWord(s.state)}${f.reason ? ` (${reasonWord(s.state, s.reason)})` : ''}\n\n` };
    }
    case 'define': {
      const g = await requireAdmin(connection, 'define').defineXML(await io.readFile(inv.args.file!));
      return { data: g, text: `Domain '${g.name}' defined from ${inv.args.file}\n\n` };
    }
    case 'create': {
      const g = await requireAdmin(connection, 'create').createXML(await io.readFile(inv.args.file!));
      return { data: g, text: `Domain '${g.name}' created from ${inv.args.file}\n\n` };
    }
    case 'undefine': {
      const admin = requireAdmin(connection, 'undefine');
      const g = await guest(connection, domain);
      await admin.undefine(g, { managedSave: f['managed-save'] === true });
      return { data: g, text: `Domain '${g.name}' has been undefined\n\n` };
    }
    case 'start': {
      const g = await guest(connection, domain);
      const started = await connection.start(g, { bypassCache: f['bypass-cache'] === true, forceBoot: f['force-boot'] === true });
      return { data: started, text: `Domain '${g.name}' started\n\n` };
    }
    case 'shutdown': {
      const g = await guest(connection, domain);
      await connection.shutdown(g);
      return { data: g, text: `Domain '${g.name}' is being shutdown\n\n` };
    }
    case 'destroy': {
      const g = await guest(connection, domain);
      await connection.destroy(g);
      return { data: g, text: `Domain '${g.name}' destroyed\n\n` };
    }
    case 'managedsave': {
      const g = await guest(connection, domain);
      await connection.managedSave(g, { bypassCache: f['bypass-cache'] === true });
      return { data: g, text: `\nDomain '${g.name}' state saved by libvirt\n\n` };
    }
    case 'managedsave-remove': {
      const g = await guest(connection, domain);
      const had = await connection.hasManagedSave(g);
      if (had) await connection.managedSaveRemove(g);
      return {
        data: { ...g, removed: had },
        text: had ? `Removed managedsave image for domain '${g.name}'\n` : `Domain '${g.name}' has no manage save image; removal skipped\n`,
      };
    }
    case 'domjobinfo': {
      const g = await guest(connection, domain);
      const job = await connection.jobInfo(g);
      return { data: job, text: renderJob(job) };
    }
    case 'domtime': {
      const g = await guest(connection, domain);
      if (f.sync) {
        await connection.setTime(g, { sync: true });
        return { data: { ...g, synced: true }, text: '' };
      }
      const t = await connection.getTime(g);
      return { data: t, text: `Time: ${new Date(t.seconds * 1000).toISOString().replace('T', ' ').slice(0, 19)}\n` };
    }
    case 'autostart': {
      const admin = requireAdmin(connection, 'autostart');
      const g = await guest(connection, domain);
      await admin.setAutostart(g, !f.disable);
      return {
        data: { ...g, autostart: !f.disable },
        text: f.disable ? `Domain '${g.name}' unmarked as autostarted\n\n` : `Domain '${g.name}' marked as autostarted\n\n`,
      };
    }
    case 'metadata': {
      const g = await guest(connection, domain);
      const metadata = await connection.getMetadata(g, inv.args.uri!);
      return { data: { ...g, uri: inv.args.uri, metadata }, text: `${metadata ?? ''}\n` };
    }
    case 'dumpxml': {
      const g = await guest(connection, domain);
      const xml = await requireAdmin(connection, 'dumpxml').getXMLDesc(g);
      return { data: { ...g, xml }, text: xml.endsWith('\n') ? xml : `${xml}\n` };
    }
    case 'version': {
      const v = await requireAdmin(connection, 'version').version();
      const fmt = (n: number): string => `${Math.floor(n / 1e6)}.${Math.floor(n / 1e3) % 1000}.${n % 1000}`;
      return {
        data: v,
        text: `Compiled against library: libvirt-guests-ts\nUsing library: libvirt ${fmt(v.libraryVersion)}\nUsing API: ${v.type} ${fmt(v.libraryVersion)}\nRunning hypervisor: ${v.type} ${fmt(v.hypervisorVersion)}\n`,
      };
    }
    case 'uri':
      return { data: { uri: connection.uri }, text: `${connection.uri}\n\n` };
    default:
      throw new Error(`command '${inv.command}' has no implementation`);
  }
}

function renderJob(job: JobProgress): string {
  const typeWords: Record<JobProgress['type'], string> = {
    none: 'None',
    bounded: 'Bounded',
    unbounded: 'Unbounded',
    completed: 'Completed',
    failed: 'Failed',
    cancelled: 'Cancelled',
  };
  const mib = (b: number): string => `${(b / 1048576).toFixed(3)} MiB`;
  const lines = [row('Job type', typeWords[job.type])];
  if (job.timeElapsedMs !== undefined) lines.push(row('Time elapsed', `${job.timeElapsedMs}         ms`));
  if (job.dataProcessed !== undefined) lines.push(row('Data processed', mib(job.dataProcessed)));
  if (job.dataRemaining !== undefined) lines.push(row('Data remaining', mib(job.dataRemaining)));
  if (job.dataTotal !== undefined) lines.push(row('Data total', mib(job.dataTotal)));
  return `${lines.join('\n')}\n\n`;
}
