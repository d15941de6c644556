// The process driver's domain table: every domain it knows (persistent configs, running guests), looked up by uuid,
// name or id, and what a domain is while the driver holds it. Work that changes a domain runs on its serial queue;
// changes to the table itself (define, undefine, create from XML) on the table's.
import pLimit from 'p-limit';
import type { DomainState } from '../../libvirt/domain-state.js';
import { CLOCK_TICKS_PER_SECOND, processStat } from '../../effects/processes.js';
import type { PowerOffReason } from '../../guest/protocol.js';
import type { DomainRecord } from '../driver.js';
import { SHUTOFF } from './constants.js';
import { noDomainById, noDomainByName, noDomainByUuid, operationFailed, operationInvalid } from './errors.js';
import type { MonitorClient } from './monitor-client.js';
import type { Store } from './store.js';
import { OS_TYPE, type DomainDef } from './xml/domain.js';

/** runs one piece of work at a time, in the order given, whether the one before succeeded or failed */
export type SerialQueue = <T>(work: () => Promise<T>) => Promise<T>;
const serialQueue = (): SerialQueue => {
  let limit: ReturnType<typeof pLimit> | undefined; // made on first use: a restart loads thousands of domains
  return (work) => (limit ??= pLimit(1))(work);
};

/** a guest process the driver manages */
export interface Running {
  pid: number;
  startTime: string;
  monitorPath: string;
  monitor: MonitorClient | null;
  startedAt: string;
  /** resolves once the guest's end has been settled */
  exited: Promise<void>;
  markExited: () => void;
}

/** a guest process coming under the driver's management */
export function newRunning(fields: Omit<Running, 'exited' | 'markExited'>): Running {
  let markExited!: () => void;
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  return { ...fields, exited, markExited };
}

export interface Job {
  /**
   * libvirt's names for the async jobs: a managed save, this daemon's migration out (BEGIN3 to CONFIRM3), or a
   * migration in whose guest is restored here, paused until FINISH3
   */
  kind: 'domain save' | 'migration out' | 'migration in';
  startedAt: number;
  processed: number;
  total: number;
}

export interface Dom {
  uuid: string;
  name: string;
  /** the persistent config; null for a transient guest */
  config: DomainDef | null;
  /** the definition the running guest was started with */
  live: DomainDef | null;
  id: number;
  state: DomainState;
  reason: number;
  autostart: boolean;
  run: Running | null;
  job: Job | null;
  /** why the guest is going away, as we asked or as it told us */
  stopping: PowerOffReason | null;
  queue: SerialQueue;
}

/** the definition in effect: the live one while running, else the config */
export function definitionOf(dom: Dom): DomainDef {
  const def = dom.live ?? dom.config;
  if (!def) throw operationFailed(`domain '${dom.name}' has no definition`);
  return def;
}

export function runningOf(dom: Dom): Running {
  if (!dom.run) throw operationInvalid('domain is not running');
  return dom.run;
}

/** refused while a job holds the guest: a save, or a migration (begun, under way, paused for its confirm, or in) */
export function noJob(dom: Dom): void {
  if (!dom.job) return;
  const then =
    dom.job.kind === 'migration in'
      ? 'it runs here once the migration finishes; virsh destroy ends it'
      : 'wait for it or abort it (virsh domjobabort)';
  throw operationInvalid(`domain '${dom.name}' has an active job (${dom.job.kind}); ${then}`);
}

export function monitorOf(dom: Dom): MonitorClient {
  const run = runningOf(dom);
  if (!run.monitor || run.monitor.closed) throw operationFailed(`the monitor of domain '${dom.name}' is not connected`);
  return run.monitor;
}

export class DomainTable {
  private readonly doms = new Map<string, Dom>();
  /** the same domains by name (names are unique in the table: checkConflicts) */
  private readonly names = new Map<string, Dom>();
  private nextId = 1;
  readonly queue = serialQueue();

  constructor(private readonly store: Store) {}

  /**
   * a domain record, not yet in the table, shut off (with its managed save image, if the config has one); `known`:
   * the names with an image and with autostart, read once for many domains
   */
  create(config: DomainDef | null, def: DomainDef, known?: { saved: Set<string>; autostart: Set<string> }): Dom {
    const saved = config !== null && (known ? known.saved.has(def.name) : this.store.hasManagedSave(def.name));
    return {
      uuid: def.uuid,
      name: def.name,
      config,
      live: null,
      id: -1,
      state: 'shutoff',
      reason: saved ? SHUTOFF.SAVED : SHUTOFF.UNKNOWN,
      autostart: config !== null && (known ? known.autostart.has(def.name) : this.store.isAutostart(def.name)),
      run: null,
      job: null,
      stopping: null,
      queue: serialQueue(),
    };
  }

  add(dom: Dom): void {
    this.doms.set(dom.uuid, dom);
    this.names.set(dom.name, dom);
  }
  remove(dom: Dom): void {
    if (this.doms.get(dom.uuid) === dom) this.doms.delete(dom.uuid);
    if (this.names.get(dom.name) === dom) this.names.delete(dom.name);
  }
  all(): Dom[] {
    return [...this.doms.values()];
  }
  get(uuid: string): Dom | undefined {
    return this.doms.get(uuid.toLowerCase());
  }

  byUuid(uuid: string): Dom {
    const dom = this.get(uuid);
    if (!dom) throw noDomainByUuid(uuid);
    return dom;
  }
  findByName(name: string): Dom | undefined {
    return this.names.get(name);
  }
  byName(name: string): Dom {
    const dom = this.findByName(name);
    if (!dom) throw noDomainByName(name);
    return dom;
  }
  byId(id: number): Dom {
    const dom = this.all().find((d) => d.run && d.id === id);
    if (!dom) throw noDomainById(id);
    return dom;
  }

  /** the id for a guest starting now */
  takeId(): number {
    return this.nextId++;
  }
  /** ids of guests reconnected after a restart are not given again */
  usedIds(ids: number[]): void {
    this.nextId = Math.max(this.nextId, ...ids.map((id) => id + 1));
  }

  /** a new definition must not take the name of another domain, nor the uuid of one named otherwise */
  checkConflicts(def: DomainDef): void {
    const byName = this.findByName(def.name);
    if (byName && byName.uuid !== def.uuid)
      throw operationFailed(`domain '${def.name}' already exists with uuid ${byName.uuid}`);
    const byUuid = this.doms.get(def.uuid);
    if (byUuid && byUuid.name !== def.name)
      throw operationFailed(`domain '${byUuid.name}' is already defined with uuid ${def.uuid}`);
  }

  /** every domain's record; one read of the save directory for all */
  records(): DomainRecord[] {
    const saved = this.store.savedNames();
    return this.all().map((d) => this.record(d, saved));
  }

  record(dom: Dom, saved?: Set<string>): DomainRecord {
    const def = definitionOf(dom);
    let cpuTimeNs = 0n;
    if (dom.run) {
      const st = processStat(dom.run.pid);
      if (st) cpuTimeNs = (BigInt(st.cpuTicks) * 1_000_000_000n) / BigInt(CLOCK_TICKS_PER_SECOND);
    }
    return {
      uuid: dom.uuid,
      name: dom.name,
      id: dom.run ? dom.id : -1,
      persistent: dom.config !== null,
      state: dom.state,
      reason: dom.reason,
      autostart: dom.autostart,
      hasManagedSave: dom.config !== null && (saved ? saved.has(dom.name) : this.store.hasManagedSave(dom.name)),
      maxMemKiB: def.memoryKiB,
      memoryKiB: def.currentMemoryKiB,
      vcpus: def.vcpus,
      cpuTimeNs,
      osType: OS_TYPE,
    };
  }
}
