// The process driver: guests are OS processes running the bundled guest runtime (src/guest). It keeps the domain
// table, the files of DESIGN §4 (through Store), lifecycle events, save jobs, and the restart rule: load every
// persistent config first, then reconcile runtime status, reconnecting only to a live pid that is the same process.
import { randomUUID } from 'node:crypto';
import { CLOCK_TICKS_PER_SECOND, isSameProcess, processStartTime, processStat, signalProcess } from '../../effects/processes.js';
import type { DomainState, JobProgress } from '../../connect/connection.js';
import { LIFECYCLE_KINDS } from '../../connect/connection.js';
import type { PowerOffReason, SaveProgress } from '../../guest/protocol.js';
import { imageSize } from '../../guest/image.js';
import type { DomainEvent, DomainRecord, Driver, DriverStartFlags } from '../driver.js';
import {
  formatDomainXML,
  OS_TYPE,
  parseDomainXML,
  withMetadataElement,
  type DomainDef,
} from './xml/domain.js';
import {
  agentUnresponsive,
  argumentUnsupported,
  invalidArg,
  noDomainById,
  noDomainByName,
  noDomainByUuid,
  noMetadata,
  operationAborted,
  operationFailed,
  operationInvalid,
} from './errors.js';
import { EVENT, RUNNING, SHUTOFF, STARTED, STOPPED, UNDEFINE_MANAGED_SAVE, DEFINED, UNDEFINED, SHUTDOWN_FINISHED } from './constants.js';
import { launchGuest, LaunchError, type Launcher } from './launcher.js';
import { MonitorClient, MonitorCommandError } from './monitor-client.js';
import { Store, type RuntimeStatus } from './store.js';

export interface DriverLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export interface DriverClock {
  /** ms since the epoch */
  now(): number;
}

export interface ProcessDriverOptions {
  stateDir: string;
  runDir: string;
  log: DriverLogger;
  clock?: DriverClock;
  /** replaces spawning the runtime (tests) */
  launcher?: Launcher;
  /** how often to check that running guests' processes are alive (a backstop to the monitor closing) */
  livenessIntervalMs?: number;
  bootTimeoutMs?: number;
  restoreTimeoutMs?: number;
  /** how long a restarted daemon waits for the monitor of a guest still booting or restoring */
  reconnectTimeoutMs?: number;
}

interface Running {
  pid: number;
  startTime: string;
  monitorPath: string;
  monitor: MonitorClient | null;
  startedAt: string;
  /** resolves once the guest's exit has been processed */
  exited: Promise<void>;
  markExited: () => void;
}

interface Job {
  startedAt: number;
  processed: number;
  total: number;
}

interface Dom {
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
  lock: Promise<unknown>;
}

const MEMORY_BYTES = (def: DomainDef): number => def.memoryKiB * 1024;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ProcessDriver implements Driver {
  readonly type = 'process';
  private readonly store: Store;
  private readonly doms = new Map<string, Dom>();
  private readonly listeners = new Set<(event: DomainEvent) => void>();
  private readonly log: DriverLogger;
  private readonly clock: DriverClock;
  private readonly launch: Launcher;
  private nextId = 1;
  private liveness: NodeJS.Timeout | null = null;
  private closing = false;
  /** serializes changes to the table (define/undefine/createXML) */
  private tableLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ProcessDriverOptions) {
    this.store = new Store(opts.stateDir, opts.runDir);
    this.log = opts.log;
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.launch = opts.launcher ?? launchGuest;
  }

  // ---- startup and shutdown -------------------------------------------------------------------------------

  async init(): Promise<void> {
    this.store.ensureDirs();
    this.loadConfigs(); // 1. every persistent config, before anything looks at runtime state
    await this.reconcile(); // 2. runtime status: reconnect to live guests, settle dead ones
    this.liveness = setInterval(() => this.checkLiveness(), this.opts.livenessIntervalMs ?? 1000);
    this.liveness.unref();
    if (this.store.claimAutostart()) await this.autostart();
  }

  private loadConfigs(): void {
    for (const { file, name, xml } of this.store.listConfigs()) {
      let def: DomainDef;
      try {
        def = parseDomainXML(xml);
      } catch (err) {
        this.log.error(`${file}: cannot load domain config, skipped (the file is kept): ${(err as Error).message}`);
        continue;
      }
      if (def.name !== name) {
        this.log.error(`${file}: the file name does not match the domain name '${def.name}'; skipped (the file is kept)`);
        continue;
      }
      if (this.doms.has(def.uuid)) {
        this.log.error(`${file}: uuid ${def.uuid} is already used by '${this.doms.get(def.uuid)?.name}'; skipped`);
        continue;
      }
      this.doms.set(def.uuid, this.newDom(def, def));
    }
  }

  private newDom(config: DomainDef | null, def: DomainDef): Dom {
    const saved = config !== null && this.store.hasManagedSave(def.name);
    return {
      uuid: def.uuid,
      name: def.name,
      config,
      live: null,
      id: -1,
      state: 'shutoff',
      reason: saved ? SHUTOFF.SAVED : SHUTOFF.UNKNOWN,
      autostart: config !== null && this.store.isAutostart(def.name),
      run: null,
      job: null,
      stopping: null,
      lock: Promise.resolve(),
    };
  }

  private async reconcile(): Promise<void> {
    // all at once: a guest still restoring (or hung) is waited for without holding up the others
    const ids = await Promise.all(
      this.store.listStatus().map(({ file, status }) =>
        this.reconcileOne(file, status).catch((err: unknown) => {
          this.log.error(`${file}: cannot reconcile runtime status: ${(err as Error).message}`);
          return 0;
        }),
      ),
    );
    this.nextId = Math.max(this.nextId, ...ids.map((id) => id + 1));
    this.removeStalePartialImages();
  }

  /** returns the id of a reconnected guest, 0 otherwise */
  private async reconcileOne(file: string, status: RuntimeStatus | null): Promise<number> {
    if (!status) {
      this.log.warn(`${file}: unreadable runtime status, removed`);
      this.store.removeFile(file);
      return 0;
    }
    const known = this.doms.get(status.uuid);
    // only a non-zero pid that is alive and is the very process we started (start time) is reconnected
    const same = status.pid > 0 && isSameProcess(status.pid, status.startTime);
    let monitor: MonitorClient | null = null;
    let live: DomainDef | null = null;
    if (same) {
      try {
        live = parseDomainXML(status.xml);
      } catch (err) {
        live = known?.config ?? null;
        if (!live) this.log.error(`domain '${status.name}': unreadable live definition (${(err as Error).message})`);
      }
      try {
        if (!live) throw new Error('no definition to manage it with');
        monitor = await this.monitorOfSurvivor({ ...status, monitorPath: status.monitor });
        if (monitor.greeting.uuid !== status.uuid) throw new Error(`monitor answers for uuid ${monitor.greeting.uuid}`);
      } catch (err) {
        monitor?.close();
        monitor = null;
        this.log.error(
          `domain '${status.name}': process ${status.pid} is alive but cannot be managed (${(err as Error).message}); killing it`,
        );
        signalProcess(status.pid, status.startTime, 'SIGKILL');
      }
    }
    if (!monitor || !live) {
      this.store.removeFile(file);
      this.store.removeFile(status.monitor);
      if (known) {
        this.log.warn(`domain '${status.name}': its process ${status.pid} ended while the daemon was down; now shut off`);
        known.state = 'shutoff';
        known.reason = this.store.hasManagedSave(known.name) ? SHUTOFF.SAVED : SHUTOFF.UNKNOWN;
      } else {
        this.log.warn(`transient domain '${status.name}': its process ${status.pid} ended while the daemon was down; gone`);
      }
      return 0;
    }
    const dom = known ?? this.newDom(null, live);
    if (!known) this.doms.set(dom.uuid, dom);
    dom.live = live;
    dom.id = status.id;
    dom.state = 'running';
    dom.reason = status.reason;
    const done = deferred();
    dom.run = {
      pid: status.pid,
      startTime: status.startTime,
      monitorPath: status.monitor,
      monitor,
      startedAt: status.startedAt,
      exited: done.promise,
      markExited: done.resolve,
    };
    if (!this.follow(dom, monitor) && dom.config && this.store.hasManagedSave(dom.name)) {
      // the image it was restored from (the daemon stopped before removing it): restoring it later would roll the
      // running guest back in time
      this.log.warn(`domain '${dom.name}' runs from its managed save image: removing the image`);
      this.store.removeManagedSave(dom.name);
    }
    if (status.persistent !== (dom.config !== null)) await this.writeStatus(dom);
    this.log.info(`domain '${dom.name}': reconnected to process ${status.pid} (id ${status.id})`);
    return status.id;
  }

  /** a new connection to the monitor of a live guest; one still booting or restoring gets time to open it */
  private async monitorOfSurvivor(guest: { pid: number; startTime: string; monitorPath: string }): Promise<MonitorClient> {
    const deadline = this.clock.now() + (this.opts.reconnectTimeoutMs ?? 30_000);
    for (;;) {
      try {
        return await MonitorClient.connect(guest.monitorPath, 3000);
      } catch (err) {
        if (this.clock.now() >= deadline || !isSameProcess(guest.pid, guest.startTime)) throw err;
        await sleep(100);
      }
    }
  }

  /**
   * `<name>.save.part-<pid>` left by a guest that died mid-save (a finished save is renamed into place). Its writer is
   * gone unless the pid is one of the guests just reconnected (identified by start time): a pid that is free, a
   * zombie, or another process now does not write it any more.
   */
  private removeStalePartialImages(): void {
    const writers = new Set([...this.doms.values()].flatMap((d) => (d.run ? [d.run.pid] : [])));
    for (const part of this.store.listPartialImages()) {
      if (writers.has(part.pid)) continue;
      this.log.warn(`${part.file}: removing the partial image of an interrupted save`);
      this.store.removeFile(part.file);
    }
  }

  private async autostart(): Promise<void> {
    for (const dom of [...this.doms.values()]) {
      if (!dom.autostart || dom.config === null || dom.run) continue;
      try {
        await this.create(dom.uuid, {});
        this.log.info(`autostarted domain '${dom.name}'`);
      } catch (err) {
        this.log.error(`cannot autostart domain '${dom.name}': ${(err as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.liveness) clearInterval(this.liveness);
    this.liveness = null;
    for (const dom of this.doms.values()) dom.run?.monitor?.close();
  }

  // ---- lookups ------------------------------------------------------------------------------------------------

  list(): DomainRecord[] {
    return [...this.doms.values()].map((d) => this.record(d));
  }
  lookupByUuid(uuid: string): DomainRecord {
    return this.record(this.byUuid(uuid));
  }
  lookupByName(name: string): DomainRecord {
    const dom = this.findByName(name);
    if (!dom) throw noDomainByName(name);
    return this.record(dom);
  }
  lookupById(id: number): DomainRecord {
    const dom = [...this.doms.values()].find((d) => d.run && d.id === id);
    if (!dom) throw noDomainById(id);
    return this.record(dom);
  }
  hasRunningGuests(): boolean {
    return [...this.doms.values()].some((d) => d.run !== null);
  }

  private byUuid(uuid: string): Dom {
    const dom = this.doms.get(uuid.toLowerCase());
    if (!dom) throw noDomainByUuid(uuid);
    return dom;
  }
  private findByName(name: string): Dom | undefined {
    return [...this.doms.values()].find((d) => d.name === name);
  }
  private def(dom: Dom): DomainDef {
    const def = dom.live ?? dom.config;
    if (!def) throw operationFailed(`domain '${dom.name}' has no definition`);
    return def;
  }
  private running(dom: Dom): Running {
    if (!dom.run) throw operationInvalid('domain is not running');
    return dom.run;
  }
  private monitorOf(dom: Dom): MonitorClient {
    const run = this.running(dom);
    if (!run.monitor || run.monitor.closed) throw operationFailed(`the monitor of domain '${dom.name}' is not connected`);
    return run.monitor;
  }

  private record(dom: Dom): DomainRecord {
    const def = this.def(dom);
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
      hasManagedSave: dom.config !== null && this.store.hasManagedSave(dom.name),
      maxMemKiB: def.memoryKiB,
      memoryKiB: def.currentMemoryKiB,
      vcpus: def.vcpus,
      cpuTimeNs,
      osType: OS_TYPE,
    };
  }

  // ---- events -------------------------------------------------------------------------------------------------

  onEvent(listener: (event: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(domain: DomainEvent['domain'], event: number, detail: number): void {
    const ev: DomainEvent = { domain: { ...domain }, kind: LIFECYCLE_KINDS[event] ?? 'defined', event, detail };
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.log.error(`event listener failed: ${(err as Error).message}`);
      }
    }
  }

  private ref(dom: Dom): DomainEvent['domain'] {
    return { uuid: dom.uuid, name: dom.name, id: dom.run ? dom.id : -1 };
  }

  // ---- locking ------------------------------------------------------------------------------------------------

  private withLock<T>(dom: Dom, fn: () => Promise<T>): Promise<T> {
    const run = dom.lock.then(fn, fn);
    dom.lock = run.catch(() => undefined);
    return run;
  }
  private withTable<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tableLock.then(fn, fn);
    this.tableLock = run.catch(() => undefined);
    return run;
  }

  // ---- define / undefine --------------------------------------------------------------------------------------

  defineXML(xml: string): Promise<DomainRecord> {
    return this.withTable(async () => {
      // without <uuid>, a definition of an existing name updates that domain
      const def = parseDomainXML(xml, { newUuid: () => this.findByName(nameHint(xml))?.uuid ?? randomUUID() });
      this.checkConflicts(def);
      const existing = this.doms.get(def.uuid);
      await this.store.writeConfig(def.name, formatDomainXML(def));
      if (existing) {
        const wasPersistent = existing.config !== null;
        existing.config = def;
        if (!existing.run && this.store.hasManagedSave(def.name)) existing.reason = SHUTOFF.SAVED;
        if (existing.run) await this.writeStatus(existing);
        this.emit(this.ref(existing), EVENT.DEFINED, wasPersistent ? DEFINED.UPDATED : DEFINED.ADDED);
        return this.record(existing);
      }
      const dom = this.newDom(def, def);
      this.doms.set(dom.uuid, dom);
      this.emit(this.ref(dom), EVENT.DEFINED, DEFINED.ADDED);
      return this.record(dom);
    });
  }

  private checkConflicts(def: DomainDef): void {
    const byName = this.findByName(def.name);
    if (byName && byName.uuid !== def.uuid)
      throw operationFailed(`domain '${def.name}' already exists with uuid ${byName.uuid}`);
    const byUuid = this.doms.get(def.uuid);
    if (byUuid && byUuid.name !== def.name)
      throw operationFailed(`domain '${byUuid.name}' is already defined with uuid ${def.uuid}`);
  }

  undefine(uuid: string, flags: number): Promise<void> {
    return this.withTable(async () => {
      const dom = this.byUuid(uuid);
      if (!dom.config) throw operationInvalid('cannot undefine transient domain');
      if (this.store.hasManagedSave(dom.name)) {
        if (!(flags & UNDEFINE_MANAGED_SAVE))
          throw operationInvalid(
            'Refusing to undefine while domain managed save image exists; remove it first (managedsave-remove) or undefine with --managed-save',
          );
        this.store.removeManagedSave(dom.name);
      }
      this.store.removeConfig(dom.name);
      await this.store.setAutostart(dom.name, dom.uuid, false);
      dom.config = null;
      dom.autostart = false;
      this.emit(this.ref(dom), EVENT.UNDEFINED, UNDEFINED.REMOVED);
      if (dom.run) await this.writeStatus(dom); // a running guest becomes transient
      else this.doms.delete(dom.uuid);
    });
  }

  // ---- start --------------------------------------------------------------------------------------------------

  createXML(xml: string, flags: DriverStartFlags): Promise<DomainRecord> {
    return this.withTable(async () => {
      this.checkFlags(flags);
      const def = parseDomainXML(xml, { newUuid: () => this.findByName(nameHint(xml))?.uuid ?? randomUUID() });
      this.checkConflicts(def);
      const existing = this.doms.get(def.uuid);
      if (existing?.run) throw operationInvalid(`domain '${def.name}' is already running`);
      const dom = existing ?? this.newDom(null, def);
      return this.withLock(dom, async () => {
        if (!existing) this.doms.set(dom.uuid, dom);
        try {
          await this.spawn(dom, def, {});
        } catch (err) {
          if (!existing) this.doms.delete(dom.uuid);
          throw err;
        }
        this.emit(this.ref(dom), EVENT.STARTED, STARTED.BOOTED);
        return this.record(dom);
      });
    });
  }

  create(uuid: string, flags: DriverStartFlags): Promise<DomainRecord> {
    const dom = this.byUuid(uuid);
    return this.withLock(dom, async () => {
      this.checkFlags(flags);
      if (dom.run) throw operationInvalid('domain is already running');
      const def = dom.config;
      if (!def) throw noDomainByUuid(uuid); // an inactive transient guest does not exist
      const image = this.store.savePath(dom.name);
      if (this.store.hasManagedSave(dom.name) && flags.forceBoot) {
        this.log.info(`domain '${dom.name}': --force-boot discards managed save image ${image}`);
        this.store.removeManagedSave(dom.name);
      }
      if (this.store.hasManagedSave(dom.name)) {
        try {
          await this.spawn(dom, def, { restoreFile: image, bypassCache: flags.bypassCache ?? false });
        } catch (err) {
          throw operationFailed(
            `cannot restore domain '${dom.name}' from its managed save image: ${(err as Error).message}. ` +
              'The image and the domain are kept: start with --force-boot to discard the image and boot fresh, ' +
              'or remove it with managedsave-remove',
            err,
          );
        }
        this.store.removeManagedSave(dom.name); // only once the guest runs from it
        this.emit(this.ref(dom), EVENT.STARTED, STARTED.RESTORED);
      } else {
        await this.spawn(dom, def, {});
        this.emit(this.ref(dom), EVENT.STARTED, STARTED.BOOTED);
      }
      return this.record(dom);
    });
  }

  private checkFlags(flags: DriverStartFlags): void {
    if (flags.paused) throw argumentUnsupported('process guests cannot be started paused');
  }

  private async spawn(dom: Dom, def: DomainDef, how: { restoreFile?: string; bypassCache?: boolean }): Promise<void> {
    const monitorPath = this.store.monitorPath(dom.uuid);
    const id = this.nextId++;
    const reason = how.restoreFile ? RUNNING.RESTORED : RUNNING.BOOTED;
    const startedAt = new Date(this.clock.now()).toISOString();
    // recorded as soon as the process exists: a daemon killed while the guest boots or restores must find it, or the
    // next start would run a second copy beside the orphan
    const recordSpawn = (pid: number): void => {
      const startTime = processStartTime(pid);
      if (startTime === null) return;
      this.store.writeStatusSync({
        uuid: dom.uuid,
        name: def.name,
        id,
        pid,
        startTime,
        monitor: monitorPath,
        startedAt,
        reason,
        persistent: dom.config !== null,
        xml: formatDomainXML(def),
      });
    };
    let launched: { pid: number };
    try {
      launched = await this.launch({
        name: def.name,
        uuid: def.uuid,
        memoryBytes: MEMORY_BYTES(def),
        monitorPath,
        behavior: def.behavior,
        logFile: this.store.logPath(def.name),
        timeoutMs: how.restoreFile ? (this.opts.restoreTimeoutMs ?? 600_000) : (this.opts.bootTimeoutMs ?? 30_000),
        onSpawn: recordSpawn,
        ...(how.restoreFile ? { restoreFile: how.restoreFile } : {}),
        ...(how.bypassCache ? { bypassCache: true } : {}),
      });
    } catch (err) {
      this.store.removeStatus(def.name); // the launcher ended the process
      if (err instanceof LaunchError && how.restoreFile) throw err;
      throw operationFailed(`cannot start domain '${def.name}': ${(err as Error).message}`, err);
    }
    const startTime = processStartTime(launched.pid);
    if (startTime === null) {
      this.store.removeStatus(def.name);
      throw operationFailed(`domain '${def.name}': the guest process ${launched.pid} ended right after starting`);
    }
    const done = deferred();
    dom.live = def;
    dom.id = id;
    dom.stopping = null;
    dom.job = null;
    dom.run = {
      pid: launched.pid,
      startTime,
      monitorPath,
      monitor: null,
      startedAt,
      exited: done.promise,
      markExited: done.resolve,
    };
    dom.state = 'running';
    dom.reason = reason;
    await this.writeStatus(dom); // what changed since the spawn (a define meanwhile)
    try {
      const monitor = await MonitorClient.connect(monitorPath, 5000);
      dom.run.monitor = monitor;
      this.attachMonitor(dom, monitor);
    } catch (err) {
      signalProcess(launched.pid, startTime, 'SIGKILL');
      this.settleStopped(dom, 'failed', false);
      throw operationFailed(`domain '${def.name}': cannot connect to the guest monitor: ${(err as Error).message}`, err);
    }
  }

  private async writeStatus(dom: Dom): Promise<void> {
    const run = dom.run;
    if (!run) return;
    const status: RuntimeStatus = {
      uuid: dom.uuid,
      name: dom.name,
      id: dom.id,
      pid: run.pid,
      startTime: run.startTime,
      monitor: run.monitorPath,
      startedAt: run.startedAt,
      reason: dom.reason,
      persistent: dom.config !== null,
      xml: formatDomainXML(this.def(dom)),
    };
    await this.store.writeStatus(status);
  }

  // ---- a running guest's monitor, and its end -----------------------------------------------------------------

  private attachMonitor(dom: Dom, monitor: MonitorClient): void {
    monitor.on('event', (name, data) => {
      if (name === 'POWEROFF') dom.stopping ??= (data as { reason: PowerOffReason }).reason;
      else if (name === 'SAVE_PROGRESS' && dom.job) {
        const p = data as SaveProgress;
        dom.job.processed = p.processed;
        dom.job.total = p.total;
      } else if (name === 'SAVE_FAILED') dom.job = null;
    });
    monitor.on('close', () => {
      if (this.closing || dom.run?.monitor !== monitor) return;
      void this.onGuestGone(dom);
    });
  }

  /**
   * Manage a running guest through a monitor connected anew (after a daemon restart, or a broken connection). A save
   * it is in the middle of is followed, so that its job shows (libvirt-guests' start waits on it). True when saving.
   */
  private follow(dom: Dom, monitor: MonitorClient): boolean {
    this.attachMonitor(dom, monitor); // before any wait: the guest may end meanwhile
    const save = monitor.greeting.status === 'saving' ? monitor.greeting.save : null;
    if (!save) return false;
    dom.job = { startedAt: this.clock.now() - save.elapsedMs, processed: save.processed, total: save.total };
    this.log.info(`domain '${dom.name}': its save is running (${save.processed} of ${save.total} bytes); following it`);
    return true;
  }

  private checkLiveness(): void {
    for (const dom of this.doms.values()) {
      const run = dom.run;
      if (run && !isSameProcess(run.pid, run.startTime)) void this.onGuestGone(dom);
    }
  }

  private gone = new WeakSet<Running>();

  /** the monitor closed or the pid vanished: wait for the process to end, then settle the domain */
  private async onGuestGone(dom: Dom): Promise<void> {
    const run = dom.run;
    if (!run || this.gone.has(run)) return;
    this.gone.add(run);
    for (let i = 0; i < 100 && isSameProcess(run.pid, run.startTime); i++) await sleep(50);
    if (isSameProcess(run.pid, run.startTime) && !this.closing) {
      // the connection broke, not the guest: a guest must not die for that, so take it up again
      const monitor = await this.monitorOfSurvivor(run).catch(() => null);
      if (monitor?.greeting.uuid === dom.uuid && dom.run === run && !this.closing) {
        this.log.warn(`domain '${dom.name}': its monitor connection broke; connected again`);
        run.monitor = monitor;
        this.gone.delete(run);
        this.follow(dom, monitor);
        return;
      }
      monitor?.close();
      this.log.error(`domain '${dom.name}': process ${run.pid} lives on but its monitor does not answer; killing it`);
      signalProcess(run.pid, run.startTime, 'SIGKILL');
      dom.stopping ??= 'failed';
    }
    // A saving guest writes its reply, then exits: the process can be seen gone (liveness poll) before that reply
    // is read from the monitor socket. Let the monitor drain first, so a finished save is not taken for a crash.
    if (dom.job && run.monitor && !run.monitor.closed) {
      const monitor = run.monitor;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        monitor.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await new Promise((resolve) => setImmediate(resolve)); // the save call's continuation runs first
    }
    if (dom.run !== run || this.closing) return;
    run.monitor?.close();
    // a save ends with POWEROFF 'saved'; a daemon that connected after that event, before the exit, sees only the
    // image (which appears, renamed into place, once complete)
    if (dom.stopping === null && dom.job && this.store.hasManagedSave(dom.name)) dom.stopping = 'saved';
    this.settleStopped(dom, dom.stopping ?? 'failed', true);
  }

  private settleStopped(dom: Dom, why: PowerOffReason, notify: boolean): void {
    const run = dom.run;
    if (!run) return;
    const map: Record<PowerOffReason, [number, number]> = {
      shutdown: [SHUTOFF.SHUTDOWN, STOPPED.SHUTDOWN],
      destroyed: [SHUTOFF.DESTROYED, STOPPED.DESTROYED],
      saved: [SHUTOFF.SAVED, STOPPED.SAVED],
      failed: [SHUTOFF.FAILED, STOPPED.FAILED],
    };
    const [reason, detail] = map[why];
    const ref = this.ref(dom); // stopped events carry the id the guest had
    if (notify && why === 'shutdown') this.emit(ref, EVENT.SHUTDOWN, SHUTDOWN_FINISHED);
    this.store.removeStatus(dom.name);
    this.store.removeFile(run.monitorPath);
    this.store.removeFile(this.store.partialImagePath(dom.name, run.pid)); // the guest is gone: so is its writer
    dom.run = null;
    dom.live = null;
    dom.job = null;
    dom.state = 'shutoff';
    dom.reason = reason;
    dom.stopping = null;
    dom.id = -1;
    if (notify) this.emit(ref, EVENT.STOPPED, detail);
    if (!dom.config) this.doms.delete(dom.uuid);
    this.log.info(`domain '${dom.name}' stopped (${why})`);
    run.markExited();
  }

  // ---- power --------------------------------------------------------------------------------------------------

  async shutdown(uuid: string): Promise<void> {
    const dom = this.byUuid(uuid);
    this.running(dom);
    if (dom.job) throw operationInvalid(`domain '${dom.name}' has an active save job; wait for it or abort it`);
    await this.monitorOf(dom)
      .call('system_powerdown')
      .catch((err: unknown) => {
        throw operationFailed(`cannot shut down domain '${dom.name}': ${(err as Error).message}`, err);
      });
  }

  async destroy(uuid: string): Promise<void> {
    const dom = this.byUuid(uuid);
    const run = this.running(dom);
    dom.stopping = 'destroyed';
    // SIGTERM lets the runtime drop a partial save image; SIGKILL if it does not go
    signalProcess(run.pid, run.startTime, 'SIGTERM');
    const gone = async (ms: number): Promise<boolean> => {
      for (let t = 0; t < ms && isSameProcess(run.pid, run.startTime); t += 25) await sleep(25);
      return !isSameProcess(run.pid, run.startTime);
    };
    if (!(await gone(3000))) {
      signalProcess(run.pid, run.startTime, 'SIGKILL');
      if (!(await gone(3000))) throw operationFailed(`domain '${dom.name}': process ${run.pid} did not die`);
    }
    await this.onGuestGone(dom);
    await run.exited;
  }

  // ---- managed save -------------------------------------------------------------------------------------------

  managedSave(uuid: string, flags: { bypassCache?: boolean }): Promise<void> {
    const dom = this.byUuid(uuid);
    return this.withLock(dom, async () => {
      const run = this.running(dom);
      if (!dom.config) throw operationInvalid('cannot do managed save for transient domain');
      if (dom.job) throw operationInvalid(`domain '${dom.name}' already has an active job`);
      const monitor = this.monitorOf(dom);
      const file = this.store.savePath(dom.name);
      const job: Job = { startedAt: this.clock.now(), processed: 0, total: imageSize(MEMORY_BYTES(this.def(dom))) };
      dom.job = job;
      let reply;
      try {
        reply = await monitor.call('save', { file, bypassCache: flags.bypassCache ?? false });
      } catch (err) {
        if (dom.job === job) dom.job = null;
        if (err instanceof MonitorCommandError && err.errorClass === 'Aborted')
          throw operationAborted("job 'domain save' canceled by client");
        if (!dom.run || dom.run !== run) throw operationFailed(`domain '${dom.name}' stopped during the save`);
        throw operationFailed(`managed save of domain '${dom.name}' failed: ${(err as Error).message}`, err);
      }
      job.processed = job.total;
      dom.stopping = 'saved';
      this.log.info(
        `domain '${dom.name}': saved ${reply.bytes} bytes to ${reply.file} in ${this.clock.now() - job.startedAt} ms (${reply.method})`,
      );
      // the runtime exits once the image is on disk
      let timer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        run.exited.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000))),
      ]);
      clearTimeout(timer);
      if (!settled) {
        signalProcess(run.pid, run.startTime, 'SIGKILL');
        await this.onGuestGone(dom);
      }
    });
  }

  managedSaveRemove(uuid: string): Promise<void> {
    const dom = this.byUuid(uuid);
    return this.withLock(dom, async () => {
      if (!this.store.hasManagedSave(dom.name))
        throw operationInvalid(`domain '${dom.name}' has no managed save image`);
      this.store.removeManagedSave(dom.name);
      if (!dom.run && dom.reason === SHUTOFF.SAVED) dom.reason = SHUTOFF.UNKNOWN;
    });
  }

  jobStats(uuid: string): JobProgress {
    const dom = this.byUuid(uuid);
    const job = dom.job;
    if (!job) return { type: 'none' };
    return {
      type: 'bounded',
      dataTotal: job.total,
      dataProcessed: job.processed,
      dataRemaining: Math.max(0, job.total - job.processed),
      timeElapsedMs: this.clock.now() - job.startedAt,
    };
  }

  async abortJob(uuid: string): Promise<void> {
    const dom = this.byUuid(uuid);
    this.running(dom);
    if (!dom.job) throw operationInvalid('no job is active on the domain');
    try {
      await this.monitorOf(dom).call('save-cancel');
    } catch (err) {
      if (err instanceof MonitorCommandError && err.errorClass === 'NoJob')
        throw operationInvalid('no job is active on the domain');
      throw operationFailed(`cannot abort the job of domain '${dom.name}': ${(err as Error).message}`, err);
    }
  }

  // ---- time ---------------------------------------------------------------------------------------------------

  private agentMonitor(dom: Dom): MonitorClient {
    this.running(dom);
    if (!this.def(dom).behavior.agent)
      throw argumentUnsupported(
        `guestd guest agent is not configured for domain '${dom.name}'; set agent="yes" in its <gd:behavior> metadata`,
      );
    return this.monitorOf(dom);
  }

  private agentError(dom: Dom, err: unknown): Error {
    if (err instanceof MonitorCommandError) {
      if (err.errorClass === 'AgentUnavailable') return agentUnresponsive(`domain '${dom.name}': ${err.message}`);
      if (err.errorClass === 'AgentNotConfigured')
        return argumentUnsupported(`guestd guest agent is not configured for domain '${dom.name}'`);
      if (err.errorClass === 'InvalidArgument') return invalidArg(err.message);
    }
    return operationFailed(`domain '${dom.name}': ${(err as Error).message}`, err);
  }

  async getTime(uuid: string): Promise<{ seconds: bigint; nseconds: number }> {
    const dom = this.byUuid(uuid);
    const monitor = this.agentMonitor(dom);
    try {
      const { timeNs } = await monitor.call('guest-get-time');
      const ns = BigInt(timeNs);
      return { seconds: ns / 1_000_000_000n, nseconds: Number(ns % 1_000_000_000n) };
    } catch (err) {
      throw this.agentError(dom, err);
    }
  }

  async setTime(uuid: string, time: { sync: true } | { seconds: bigint; nseconds: number }): Promise<void> {
    const dom = this.byUuid(uuid);
    const monitor = this.agentMonitor(dom);
    let args: { timeNs?: string } = {};
    if (!('sync' in time)) {
      if (time.seconds < 0n || time.nseconds < 0 || time.nseconds >= 1e9)
        throw invalidArg(`time ${time.seconds}.${time.nseconds} is out of range`);
      args = { timeNs: (time.seconds * 1_000_000_000n + BigInt(time.nseconds)).toString() };
    }
    try {
      await monitor.call('guest-set-time', args);
    } catch (err) {
      throw this.agentError(dom, err);
    }
  }

  // ---- autostart and metadata ---------------------------------------------------------------------------------

  async setAutostart(uuid: string, autostart: boolean): Promise<void> {
    const dom = this.byUuid(uuid);
    if (!dom.config) throw operationInvalid('cannot set autostart for transient domain');
    await this.store.setAutostart(dom.name, dom.uuid, autostart);
    dom.autostart = autostart;
  }

  getXMLDesc(uuid: string): string {
    const dom = this.byUuid(uuid);
    return formatDomainXML(this.def(dom), dom.run ? dom.id : undefined);
  }

  getMetadata(uuid: string, type: number, uri: string | null): string {
    const def = this.def(this.byUuid(uuid));
    let value: string | null;
    if (type === 0) value = def.description;
    else if (type === 1) value = def.title;
    else if (type === 2) {
      if (!uri) throw invalidArg('metadata of type element needs a namespace uri');
      value = def.metadata.find((m) => m.uri === uri)?.xml ?? null;
    } else throw invalidArg(`unknown metadata type ${type}`);
    if (value === null) throw noMetadata();
    return value;
  }

  setMetadata(uuid: string, type: number, value: string | null, key: string | null, uri: string | null): Promise<void> {
    const dom = this.byUuid(uuid);
    return this.withLock(dom, async () => {
      const apply = (def: DomainDef): DomainDef => {
        const v = value === '' ? null : value;
        if (type === 0) return { ...def, description: v };
        if (type === 1) {
          if (v?.includes('\n')) throw invalidArg('a title must be a single line');
          return { ...def, title: v };
        }
        if (type === 2) {
          if (!uri) throw invalidArg('metadata of type element needs a namespace uri');
          if (v !== null && !key) throw invalidArg('metadata of type element needs a key (namespace prefix)');
          return withMetadataElement(def, uri, key, v);
        }
        throw invalidArg(`unknown metadata type ${type}`);
      };
      const config = dom.config ? apply(dom.config) : null;
      const live = dom.live ? apply(dom.live) : null;
      if (config) await this.store.writeConfig(config.name, formatDomainXML(config));
      dom.config = config;
      dom.live = live;
      if (dom.run) await this.writeStatus(dom);
    });
  }
}

/** the <name> of an XML document before full parsing, to adopt an existing uuid when <uuid> is absent */
function nameHint(xml: string): string {
  const m = /<name>\s*([^<]*?)\s*<\/name>/.exec(xml);
  return m?.[1] ?? '';
}
