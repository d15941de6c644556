// The process driver: guests are OS processes running the bundled guest runtime (src/guest). This is its table of
// operations over the rooms that do the work: the domain table, reconcile-at-start, the guest processes, save jobs,
// the agent, metadata. Definitions (define, undefine) and starts are here.
import { randomUUID } from 'node:crypto';
import type { JobProgress } from '../../libvirt/job.js';
import { systemClock } from '../../effects/clock.js';
import type {
  CpuMap,
  DomainCapabilitiesQuery,
  DomainControlInfo,
  DomainMemoryStats,
  NodeInfo,
  VcpuInfo,
  DomainEvent,
  DomainRecord,
  Driver,
  DriverAffect,
  DriverDestroyFlags,
  DriverSaveFlags,
  DriverStartFlags,
  DriverUndefineFlags,
  DriverXMLFlags,
  GuestTime,
  MetadataKind,
} from '../driver.js';
import { GuestAgent } from './agent.js';
import { DEFINED, EVENT, SHUTOFF, STARTED, SUSPENDED, UNDEFINED } from './constants.js';
import type { DriverContext } from './context.js';
import { DomainTable, type Dom } from './domain-table.js';
import { exclusiveFlags, noDomainByUuid, operationFailed, operationInvalid } from './errors.js';
import { DomainEvents, eventRef } from './events.js';
import { GuestProcesses } from './guest-process.js';
import { GuestStats } from './guest-stats.js';
import { Host } from './host.js';
import { launchGuest } from './launcher.js';
import { Metadata } from './metadata.js';
import { Migrations } from './migration.js';
import { DEFAULT_TIMING, type ProcessDriverOptions } from './options.js';
import { loadConfigs, reconcileRuntime } from './reconcile.js';
import { SaveJobs } from './save-job.js';
import { Store } from './store.js';
import { formatDomainXML, parseDomainXML, type DomainDef } from './xml/domain.js';

export class ProcessDriver implements Driver {
  readonly type = 'process';
  private readonly ctx: DriverContext;
  private readonly processes: GuestProcesses;
  private readonly saves: SaveJobs;
  private readonly agent: GuestAgent;
  private readonly metadata: Metadata;
  readonly migration: Migrations;
  private readonly host = new Host();
  private readonly stats: GuestStats;

  constructor(options: ProcessDriverOptions) {
    const store = new Store(options.stateDir, options.runDir);
    this.ctx = {
      store,
      table: new DomainTable(store),
      events: new DomainEvents(options.log),
      log: options.log,
      clock: options.clock ?? systemClock,
      timing: { ...DEFAULT_TIMING, ...options.timing },
    };
    this.processes = new GuestProcesses(this.ctx, options.launcher ?? launchGuest);
    this.saves = new SaveJobs(this.ctx, this.processes);
    this.agent = new GuestAgent(this.ctx);
    this.metadata = new Metadata(this.ctx, this.processes);
    this.migration = new Migrations(this.ctx, this.processes, (uuid) => this.undefine(uuid, {}));
    this.stats = new GuestStats(this.ctx);
  }

  async init(): Promise<void> {
    this.ctx.store.ensureDirs();
    loadConfigs(this.ctx); // 1. every persistent config, before anything looks at runtime state
    await reconcileRuntime(this.ctx, this.processes); // 2. reconnect to live guests, settle dead ones
    this.processes.watch();
    if (this.ctx.store.claimAutostart()) await this.autostart();
  }

  private async autostart(): Promise<void> {
    for (const dom of this.ctx.table.all()) {
      if (!dom.autostart || dom.config === null || dom.run) continue;
      try {
        await this.create(dom.uuid, {});
        this.ctx.log.info(`autostarted domain '${dom.name}'`);
      } catch (err) {
        this.ctx.log.error(`cannot autostart domain '${dom.name}': ${(err as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    await this.migration.close();
    this.processes.close();
    this.ctx.store.configs.flushIndex();
  }

  // ---- lookups

  list(): DomainRecord[] {
    return this.ctx.table.records();
  }
  lookupByUuid(uuid: string): DomainRecord {
    return this.ctx.table.record(this.ctx.table.byUuid(uuid));
  }
  lookupByName(name: string): DomainRecord {
    return this.ctx.table.record(this.ctx.table.byName(name));
  }
  lookupById(id: number): DomainRecord {
    return this.ctx.table.record(this.ctx.table.byId(id));
  }
  hasRunningGuests(): boolean {
    return this.ctx.table.all().some((d) => d.run !== null);
  }
  onEvent(listener: (event: DomainEvent) => void): () => void {
    return this.ctx.events.on(listener);
  }
  onReboot(listener: (domain: DomainEvent['domain']) => void): () => void {
    return this.ctx.events.onReboot(listener);
  }

  // ---- the host

  nodeInfo(): NodeInfo {
    return this.host.nodeInfo();
  }
  cpuMap(): CpuMap {
    return this.host.cpuMap();
  }
  freeMemoryBytes(): number {
    return this.host.freeMemoryBytes();
  }
  capabilities(): string {
    return this.host.capabilities();
  }
  domainCapabilities(query: DomainCapabilitiesQuery): string {
    return this.host.domainCapabilities(query);
  }
  sysinfo(): string {
    return this.host.sysinfo();
  }

  // ---- definitions

  async defineXML(xml: string): Promise<DomainRecord> {
    const { table, store, events } = this.ctx;
    // the table changes at once, in order; the config is committed with the others of its batch (group commit) and
    // the define is answered once it is durable. A new domain whose config cannot be written is taken back.
    const { dom, record, created, written } = await table.queue(async () => {
      const def = this.parse(xml);
      table.checkConflicts(def);
      const existing = table.get(def.uuid);
      const written = store.writeConfig(def.name, formatDomainXML(def), def);
      if (existing) {
        await written;
        const wasPersistent = existing.config !== null;
        existing.config = def;
        if (!existing.run && store.hasManagedSave(def.name)) existing.reason = SHUTOFF.SAVED;
        if (existing.run) await this.processes.writeStatus(existing);
        events.emit(eventRef(existing), EVENT.DEFINED, wasPersistent ? DEFINED.UPDATED : DEFINED.ADDED);
        return { dom: existing, record: table.record(existing), created: false, written };
      }
      const dom = table.create(def, def);
      table.add(dom);
      return { dom, record: table.record(dom), created: true, written };
    });
    if (created) {
      try {
        await written;
      } catch (err) {
        await table.queue(async () => {
          if (table.get(dom.uuid) === dom && !dom.run) table.remove(dom);
        });
        throw err; // the store's error names the domain, the file and what to check
      }
      events.emit(eventRef(dom), EVENT.DEFINED, DEFINED.ADDED);
    }
    return record;
  }

  undefine(uuid: string, flags: DriverUndefineFlags): Promise<void> {
    const { table, store, events } = this.ctx;
    return table.queue(async () => {
      const dom = table.byUuid(uuid);
      if (!dom.config) throw operationInvalid('cannot undefine transient domain');
      if (store.hasManagedSave(dom.name)) {
        if (!flags.managedSave)
          throw operationInvalid(
            'Refusing to undefine while domain managed save image exists; remove it first (managedsave-remove) or undefine with --managed-save',
          );
        store.removeManagedSave(dom.name);
      }
      await store.removeConfig(dom.name);
      await store.setAutostart(dom.name, dom.uuid, false);
      dom.config = null;
      dom.autostart = false;
      events.emit(eventRef(dom), EVENT.UNDEFINED, UNDEFINED.REMOVED);
      if (dom.run) await this.processes.writeStatus(dom); // a running guest becomes transient
      else table.remove(dom);
    });
  }

  /** without <uuid>, a definition of an existing name is of that domain */
  private parse(xml: string): DomainDef {
    const name = /<name>\s*([^<]*?)\s*<\/name>/.exec(xml)?.[1] ?? '';
    return parseDomainXML(xml, { newUuid: () => this.ctx.table.findByName(name)?.uuid ?? randomUUID() });
  }

  // ---- starts

  createXML(xml: string, flags: Pick<DriverStartFlags, 'paused'>): Promise<DomainRecord> {
    const { table, events } = this.ctx;
    return table.queue(async () => {
      const def = this.parse(xml);
      table.checkConflicts(def);
      const existing = table.get(def.uuid);
      if (existing?.run) throw operationInvalid(`domain '${def.name}' is already running`);
      const dom = existing ?? table.create(null, def);
      return dom.queue(async () => {
        if (!existing) table.add(dom);
        try {
          await this.processes.spawn(dom, def, { paused: flags.paused === true });
        } catch (err) {
          if (!existing) table.remove(dom);
          throw err;
        }
        events.emit(eventRef(dom), EVENT.STARTED, STARTED.BOOTED);
        this.saySuspended(dom, flags);
        return table.record(dom);
      });
    });
  }

  create(uuid: string, flags: DriverStartFlags): Promise<DomainRecord> {
    const { table, store, events, log } = this.ctx;
    const dom = table.byUuid(uuid);
    return dom.queue(async () => {
      if (dom.run) throw operationInvalid('domain is already running');
      const def = dom.config;
      if (!def) throw noDomainByUuid(uuid); // an inactive transient guest does not exist
      const image = store.savePath(dom.name);
      if (store.hasManagedSave(dom.name) && flags.forceBoot) {
        log.info(`domain '${dom.name}': --force-boot discards managed save image ${image}`);
        store.removeManagedSave(dom.name);
      }
      if (store.hasManagedSave(dom.name)) {
        try {
          await this.processes.spawn(dom, def, {
            restoreFile: image,
            bypassCache: flags.bypassCache ?? false,
            paused: flags.paused === true,
          });
        } catch (err) {
          throw operationFailed(
            `cannot restore domain '${dom.name}' from its managed save image: ${(err as Error).message}. ` +
              'The image and the domain are kept: start with --force-boot to discard the image and boot fresh, ' +
              'or remove it with managedsave-remove',
            err,
          );
        }
        store.removeManagedSave(dom.name); // only once the guest runs from it
        events.emit(eventRef(dom), EVENT.STARTED, STARTED.RESTORED);
      } else {
        await this.processes.spawn(dom, def, { paused: flags.paused === true });
        events.emit(eventRef(dom), EVENT.STARTED, STARTED.BOOTED);
      }
      this.saySuspended(dom, flags);
      return table.record(dom);
    });
  }

  /**
   * libvirt's events for a guest that came up paused: STARTED, then SUSPENDED, PAUSED for start --paused, RESTORED for
   * an image saved paused (qemuSaveImageStartVM)
   */
  private saySuspended(dom: Dom, flags: Pick<DriverStartFlags, 'paused'>): void {
    if (dom.state !== 'paused') return;
    this.ctx.events.emit(eventRef(dom), EVENT.SUSPENDED, flags.paused ? SUSPENDED.PAUSED : SUSPENDED.RESTORED);
  }

  // ---- a running guest

  shutdown(uuid: string): Promise<void> {
    return this.processes.shutdown(this.ctx.table.byUuid(uuid));
  }
  destroy(uuid: string, flags: DriverDestroyFlags): Promise<void> {
    return this.processes.destroy(this.ctx.table.byUuid(uuid), flags);
  }
  // on the domain's queue, after a start or a restart under way
  suspend(uuid: string): Promise<void> {
    return this.queued(uuid, (dom) => this.processes.suspend(dom));
  }
  resume(uuid: string): Promise<void> {
    return this.queued(uuid, (dom) => this.processes.resume(dom));
  }
  reboot(uuid: string): Promise<void> {
    return this.queued(uuid, (dom) => this.processes.reboot(dom));
  }
  reset(uuid: string): Promise<void> {
    return this.queued(uuid, (dom) => this.processes.reset(dom));
  }
  private queued(uuid: string, work: (dom: Dom) => Promise<void>): Promise<void> {
    const dom = this.ctx.table.byUuid(uuid);
    return dom.queue(() => work(dom));
  }
  memoryStats(uuid: string): DomainMemoryStats {
    return this.stats.memoryStats(this.ctx.table.byUuid(uuid));
  }
  controlInfo(uuid: string): DomainControlInfo {
    return this.stats.controlInfo(this.ctx.table.byUuid(uuid));
  }
  vcpus(uuid: string): VcpuInfo[] {
    return this.stats.vcpus(this.ctx.table.byUuid(uuid), this.host.cpuMap().online);
  }
  async managedSave(uuid: string, flags: DriverSaveFlags): Promise<void> {
    if (flags.paused && flags.running) throw exclusiveFlags('VIR_DOMAIN_SAVE_RUNNING', 'VIR_DOMAIN_SAVE_PAUSED');
    return this.saves.managedSave(uuid, flags);
  }
  managedSaveRemove(uuid: string): Promise<void> {
    return this.saves.managedSaveRemove(uuid);
  }
  jobStats(uuid: string): JobProgress {
    return this.saves.jobStats(uuid);
  }
  async abortJob(uuid: string): Promise<void> {
    if (await this.migration.abort(this.ctx.table.byUuid(uuid))) return;
    return this.saves.abortJob(uuid);
  }
  getTime(uuid: string): Promise<GuestTime> {
    return this.agent.getTime(uuid);
  }
  setTime(uuid: string, time: { sync: true } | GuestTime): Promise<void> {
    return this.agent.setTime(uuid, time);
  }

  // ---- configuration

  async setAutostart(uuid: string, autostart: boolean): Promise<void> {
    const dom = this.ctx.table.byUuid(uuid);
    if (!dom.config) throw operationInvalid('cannot set autostart for transient domain');
    await this.ctx.store.setAutostart(dom.name, dom.uuid, autostart);
    dom.autostart = autostart;
  }
  getXMLDesc(uuid: string, flags: DriverXMLFlags): string {
    return this.metadata.getXMLDesc(uuid, flags);
  }
  getMetadata(uuid: string, query: { type: MetadataKind; uri: string | null }, affect: DriverAffect): string {
    return this.metadata.getMetadata(uuid, query, affect);
  }
  setMetadata(
    uuid: string,
    change: { type: MetadataKind; value: string | null; key: string | null; uri: string | null },
    affect: DriverAffect,
  ): Promise<void> {
    return this.metadata.setMetadata(uuid, change, affect);
  }
}

