// Parsers for what virsh 9.x prints under LC_ALL=C. Pure functions; the wording comes from virsh's sources
// (tools/virsh-domain*.c) and was checked against real virsh 9.0 output.
import type { DomainState } from '../libvirt/domain-state.js';
import type { JobProgress } from '../libvirt/job.js';
import { LIFECYCLE_KINDS, type LifecycleKind } from '../libvirt/lifecycle.js';
import { REASON_WORDS, STATE_WORDS } from '../libvirt/state-words.js';
import { parseDashedUuid } from '../libvirt/uuid.js';

/** virsh's lifecycle event words (virshDomainEvent*), per event; index = libvirt's detail number. */
const EVENT_WORDS: ReadonlyArray<[string, readonly string[]]> = [
  ['Defined', ['Added', 'Updated', 'Renamed', 'Snapshot']],
  ['Undefined', ['Removed', 'Renamed']],
  ['Started', ['Booted', 'Migrated', 'Restored', 'Snapshot', 'Event wakeup']],
  ['Suspended', ['Paused', 'Migrated', 'I/O Error', 'Watchdog', 'Restored', 'Snapshot', 'API error', 'Post-copy', 'Post-copy Error']],
  ['Resumed', ['Unpaused', 'Migrated', 'Snapshot', 'Post-copy', 'Post-copy Error']],
  ['Stopped', ['Shutdown', 'Destroyed', 'Crashed', 'Migrated', 'Saved', 'Failed', 'Snapshot']],
  ['Shutdown', ['Finished', 'Finished after guest request', 'Finished after host request']],
  ['PMSuspended', ['Memory', 'Disk']],
  ['Crashed', ['Panicked', 'Crashloaded']],
];

export class VirshOutputError extends Error {
  constructor(what: string, output: string) {
    super(`cannot parse virsh ${what} output: ${JSON.stringify(output.slice(0, 200))}`);
    this.name = 'VirshOutputError';
  }
}

function stateFromWord(word: string): DomainState | undefined {
  return STATE_WORDS.find(([w]) => w === word)?.[1];
}

/** `domstate --reason` output, e.g. "shut off (saved)". Unknown reason words give reason 0, as libvirt's "unknown". */
export function parseDomstate(stdout: string): { state: DomainState; reason: number } {
  const line = stdout.trim();
  const m = /^(.*?)(?: \((.*)\))?$/.exec(line);
  const state = m ? stateFromWord(m[1]!) : undefined;
  if (!m || !state) throw new VirshOutputError('domstate', stdout);
  const reason = m[2] === undefined ? 0 : Math.max(0, REASON_WORDS[state].indexOf(m[2]));
  return { state, reason };
}

const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  PiB: 1024 ** 5,
  EiB: 1024 ** 6,
};

/** "307.110 MiB" → bytes. virsh prints 3 decimals, so the result is exact to ~0.05 % of the unit. */
export function parseSize(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGTPE]?i?B)$/.exec(text.trim());
  const unit = m ? UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) throw new VirshOutputError('size', text);
  return Math.round(Number(m[1]) * unit);
}

/** `Key:   value` lines (dominfo, domjobinfo) into a map; keys keep their spelling, values are trimmed. */
function parseFields(stdout: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([A-Za-z][^:]*):\s*(.*?)\s*$/.exec(line);
    if (m) fields.set(m[1]!, m[2]!);
  }
  return fields;
}

const JOB_TYPES: ReadonlyArray<JobProgress['type']> = ['none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled'];

/** `domjobinfo` output: job type, data processed/remaining/total (bytes) and elapsed time. */
export function parseJobInfo(stdout: string): JobProgress {
  const f = parseFields(stdout);
  const typeWord = f.get('Job type')?.toLowerCase();
  // virsh spells it "Cancelled"; accept the US spelling too
  const type = JOB_TYPES.find((t) => t === (typeWord === 'canceled' ? 'cancelled' : typeWord));
  if (!type) throw new VirshOutputError('domjobinfo', stdout);
  const progress: JobProgress = { type };
  const size = (key: string): number | undefined => {
    const v = f.get(key);
    return v === undefined ? undefined : parseSize(v);
  };
  const processed = size('Data processed');
  const remaining = size('Data remaining');
  const total = size('Data total');
  if (processed !== undefined) progress.dataProcessed = processed;
  if (remaining !== undefined) progress.dataRemaining = remaining;
  if (total !== undefined) progress.dataTotal = total;
  const elapsed = /^(\d+)\s*ms$/.exec(f.get('Time elapsed') ?? '');
  if (elapsed) progress.timeElapsedMs = Number(elapsed[1]);
  return progress;
}

export interface ListedGuest {
  uuid: string;
  /** -1 for an inactive guest ("-") */
  id: number;
  name: string;
}

/** `list --uuid --id --name` lines: "uuid id name" (id "-" when inactive; the name is the rest of the line). */
export function parseUuidIdNameList(stdout: string): ListedGuest[] {
  return nonEmptyLines(stdout).map((line) => {
    const m = /^(\S+)\s+(-|\d+)\s+(.+)$/.exec(line);
    const uuid = m ? parseDashedUuid(m[1]!) : null;
    if (!m || uuid === null) throw new VirshOutputError('list --uuid --id --name', line);
    return { uuid, id: m[2] === '-' ? -1 : Number(m[2]), name: m[3]! };
  });
}

/** `list` table rows (-q drops the header): " 5   name   running". Names may contain spaces. */
export function parseListTable(stdout: string): Array<{ id: number; name: string; state: DomainState }> {
  const words = STATE_WORDS.map(([w]) => w.replace(' ', '\\s')).join('|');
  const re = new RegExp(`^\\s*(-|\\d+)\\s+(.+?)\\s+(${words})\\s*$`);
  return nonEmptyLines(stdout).map((line) => {
    const m = re.exec(line);
    if (!m) throw new VirshOutputError('list', line);
    return { id: m[1] === '-' ? -1 : Number(m[1]), name: m[2]!, state: stateFromWord(m[3]!)! };
  });
}

/** A plain list of UUIDs or names, one per line (`list --uuid`, `list --name`). */
export function nonEmptyLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
}

export interface DomInfo extends ListedGuest {
  state: DomainState | undefined;
  persistent: boolean | undefined;
  managedSave: boolean | undefined;
}

/** `dominfo` output: identity plus the yes/no fields this project needs. */
export function parseDominfo(stdout: string): DomInfo {
  const f = parseFields(stdout);
  const uuid = parseDashedUuid(f.get('UUID') ?? '');
  const name = f.get('Name');
  const id = f.get('Id');
  if (uuid === null || name === undefined || id === undefined) throw new VirshOutputError('dominfo', stdout);
  const yesNo = (key: string): boolean | undefined => {
    const v = f.get(key);
    return v === undefined ? undefined : v === 'yes';
  };
  const stateWord = f.get('State');
  return {
    uuid,
    name,
    id: id === '-' ? -1 : Number(id),
    state: stateWord === undefined ? undefined : stateFromWord(stateWord),
    persistent: yesNo('Persistent'),
    managedSave: yesNo('Managed save'),
  };
}

export interface VirshLifecycleLine {
  name: string;
  kind: LifecycleKind;
  event: number;
  detail: number;
}

/** One line of `virsh event --loop --event lifecycle`, or null for anything else (e.g. "events received: N"). */
export function parseLifecycleLine(line: string): VirshLifecycleLine | null {
  // The name is greedy so that a name containing "': " still parses; the event word has no spaces.
  const m = /^(?:\S+ \S+: )?event 'lifecycle' for domain '(.*)': (\S+) (.+)$/.exec(line.trimEnd());
  if (!m) return null;
  const event = EVENT_WORDS.findIndex(([w]) => w === m[2]);
  if (event < 0) return null;
  const detail = EVENT_WORDS[event]![1].indexOf(m[3]!);
  return { name: m[1]!, kind: LIFECYCLE_KINDS[event]!, event, detail: Math.max(detail, 0) };
}

/** `domtime` output: "Time: 1795307167". virsh prints whole seconds only. */
export function parseDomtime(stdout: string): { seconds: number; nseconds: number } {
  const m = /^Time:\s*(-?\d+)\s*$/m.exec(stdout);
  if (!m) throw new VirshOutputError('domtime', stdout);
  return { seconds: Number(m[1]), nseconds: 0 };
}
