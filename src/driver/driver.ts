// The table of operations every guest driver offers to guestd. The daemon (src/daemon) maps REMOTE procedures onto
// it and never knows which driver it talks to: it translates libvirt's flag numbers into the typed flags below (and
// refuses the bits it does not know). Drivers throw LibvirtError (src/libvirt/error.ts) with libvirt's numbers, so the
// daemon can send them over the wire unchanged.
import type { DomainState } from '../libvirt/domain-state.js';
import type { JobProgress } from '../libvirt/job.js';
import type { LifecycleKind } from '../libvirt/lifecycle.js';

export interface DomainRecord {
  uuid: string; // canonical lowercase 8-4-4-4-12
  name: string;
  /** -1 when not running */
  id: number;
  persistent: boolean;
  state: DomainState;
  /** libvirt's state reason number (e.g. SHUTOFF_SAVED = 5) */
  reason: number;
  autostart: boolean;
  hasManagedSave: boolean;
  maxMemKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: bigint;
  osType: string;
}

export interface DomainEvent {
  domain: Pick<DomainRecord, 'uuid' | 'name' | 'id'>;
  kind: LifecycleKind;
  /** libvirt's virDomainEventType and detail numbers */
  event: number;
  detail: number;
}

/** how to start a guest (the VIR_DOMAIN_START_* a driver is asked for) */
export interface DriverStartFlags {
  paused?: boolean;
  /** restore from a managed save image without filling the host's page cache */
  bypassCache?: boolean;
  /** boot fresh, discarding a managed save image */
  forceBoot?: boolean;
}

export interface DriverSaveFlags {
  /** write the image without filling the host's page cache */
  bypassCache?: boolean;
  /** the guest is to be restored paused, whatever its state when the save begins (SAVE_PAUSED) */
  paused?: boolean;
  /** the guest is to be restored running, even if suspended when the save begins (SAVE_RUNNING) */
  running?: boolean;
}

export interface DriverUndefineFlags {
  /** remove the managed save image too (without it, one refuses the undefine) */
  managedSave?: boolean;
}

export interface DriverDestroyFlags {
  /** ask the guest's process to end, never kill it: fail if it does not */
  graceful?: boolean;
}

export interface DriverXMLFlags {
  /** the persistent config rather than the running guest's definition */
  inactive?: boolean;
}

/**
 * Which definition a metadata call applies to (VIR_DOMAIN_AFFECT_*): the running guest's (`live`), the persistent
 * config, or both; neither is libvirt's "current": the running guest's when it runs, else the config.
 */
export interface DriverAffect {
  live?: boolean;
  config?: boolean;
}

/** the kinds of metadata (VIR_DOMAIN_METADATA_*): an element is addressed by its namespace uri */
export type MetadataKind = 'description' | 'title' | 'element';

export interface GuestTime {
  seconds: bigint;
  nseconds: number;
}

/** the host as libvirt's node info reports it (virNodeInfo) */
export interface NodeInfo {
  /** the CPU architecture (uname's machine), as libvirt puts it */
  model: string;
  memoryKiB: number;
  /** CPUs online */
  cpus: number;
  mhz: number;
  nodes: number;
  /** per NUMA node */
  sockets: number;
  /** per socket */
  cores: number;
  /** per core */
  threads: number;
}

export interface CpuMap {
  /** the number of CPUs the host can have (highest id + 1) */
  cpus: number;
  /** ids of the online ones */
  online: number[];
}

/** what virConnectGetDomainCapabilities asks about (null: the driver's choice) */
export interface DomainCapabilitiesQuery {
  emulatorbin: string | null;
  arch: string | null;
  machine: string | null;
  virttype: string | null;
}

/** virDomainMemoryStats, in KiB: what the host sees of a running guest */
export interface DomainMemoryStats {
  /** the guest's current memory (libvirt's "actual", the balloon) */
  actualKiB: number;
  /** resident set of the guest's process */
  rssKiB: number;
}

/** virDomainGetControlInfo: whether the driver can talk to the guest now, or a job holds it, and since when */
export interface DomainControlInfo {
  state: 'ok' | 'job' | 'occupied' | 'error';
  stateTimeMs: number;
}

/** one virtual CPU of a running guest (virVcpuInfo) */
export interface VcpuInfo {
  number: number;
  state: 'offline' | 'running' | 'blocked';
  cpuTimeNs: bigint;
  /** host CPU it last ran on */
  cpu: number;
  /** host CPUs it may run on */
  affinity: number[];
}

/**
 * Calls beyond the save/restore core, optional as libvirt's driver tables are: guestd answers NO_SUPPORT for a driver
 * that lacks one. The host's facts, and the lifecycle and statistics of a running guest.
 */
export interface DriverExtras {
  nodeInfo?(): NodeInfo;
  cpuMap?(): CpuMap;
  freeMemoryBytes?(): number;
  capabilities?(): string;
  domainCapabilities?(query: DomainCapabilitiesQuery): string;
  sysinfo?(): string;
  /** pause a running guest (a paused one stays so) */
  suspend?(uuid: string): Promise<void>;
  /** go on with a paused guest */
  resume?(uuid: string): Promise<void>;
  /** restart the guest after a shutdown it is asked for; returns once asked */
  reboot?(uuid: string): Promise<void>;
  /** restart the guest at once, no shutdown */
  reset?(uuid: string): Promise<void>;
  memoryStats?(uuid: string): DomainMemoryStats;
  controlInfo?(uuid: string): DomainControlInfo;
  vcpus?(uuid: string): VcpuInfo[];
  /** the REBOOT event (VIR_DOMAIN_EVENT_ID_REBOOT): a guest was rebooted or reset */
  onReboot?(listener: (domain: DomainEvent['domain']) => void): () => void;
}

/** what a migration is asked to do (the VIR_MIGRATE_* flags a driver honours) */
export interface DriverMigrateFlags {
  /** copy the memory while the guest runs; pause it only for the last part */
  live: boolean;
  /** the guest is defined persistently on the destination */
  persistDest: boolean;
  /** the source's definition is removed once the guest runs on the destination */
  undefineSource: boolean;
}

/** what prepare leaves: the cookie and URI for the source, and `abandon` for when the migration's client goes */
export interface PreparedIncoming {
  cookie: Buffer;
  uri: string;
  uuid: string;
  /** the connection that prepared the migration closed: unless finish has begun, the incoming guest ends */
  abandon: () => Promise<void>;
}

/**
 * libvirt's migration protocol, version 3: begin and perform and confirm on the source, prepare and finish on the
 * destination. Cookies are opaque to everyone but the two drivers.
 */
export interface DriverMigration {
  begin(uuid: string, flags: DriverMigrateFlags): Promise<{ xml: string; cookie: Buffer }>;
  /** `address`: where the destination listens for the stream (`tcp:host:port`); a local socket when absent */
  prepare(xml: string, cookie: Buffer, flags: DriverMigrateFlags, address: string | null): Promise<PreparedIncoming>;
  /** the guest is left paused: since `pausedAt` (ms since the epoch) */
  perform(uuid: string, uri: string, cookie: Buffer, flags: DriverMigrateFlags): Promise<{ cookie: Buffer; pausedAt: number }>;
  finish(cookie: Buffer, flags: DriverMigrateFlags, cancelled: boolean): Promise<{ domain: DomainRecord; cookie: Buffer }>;
  confirm(uuid: string, cookie: Buffer, flags: DriverMigrateFlags, cancelled: boolean): Promise<void>;
}

export interface Driver extends DriverExtras {
  /** absent: the driver cannot migrate */
  readonly migration?: DriverMigration;
  /** hypervisor type name, as CONNECT_GET_TYPE reports it */
  readonly type: string;
  /** load every persistent config, then reconcile runtime status (restart rule: DESIGN §4) */
  init(): Promise<void>;
  /** close monitors and watchers; running guests are left running */
  close(): Promise<void>;

  list(): DomainRecord[];
  lookupByUuid(uuid: string): DomainRecord;
  lookupByName(name: string): DomainRecord;
  lookupById(id: number): DomainRecord;

  defineXML(xml: string): Promise<DomainRecord>;
  undefine(uuid: string, flags: DriverUndefineFlags): Promise<void>;
  /** a transient guest, started at once */
  createXML(xml: string, flags: Pick<DriverStartFlags, 'paused'>): Promise<DomainRecord>;
  create(uuid: string, flags: DriverStartFlags): Promise<DomainRecord>;
  /** ask the guest to power down (the power button) */
  shutdown(uuid: string): Promise<void>;
  destroy(uuid: string, flags: DriverDestroyFlags): Promise<void>;
  getXMLDesc(uuid: string, flags: DriverXMLFlags): string;

  managedSave(uuid: string, flags: DriverSaveFlags): Promise<void>;
  managedSaveRemove(uuid: string): Promise<void>;
  jobStats(uuid: string): JobProgress;
  abortJob(uuid: string): Promise<void>;

  getTime(uuid: string): Promise<GuestTime>;
  /** `sync`: the guest takes the host's time */
  setTime(uuid: string, time: { sync: true } | GuestTime): Promise<void>;

  setAutostart(uuid: string, autostart: boolean): Promise<void>;
  getMetadata(uuid: string, query: { type: MetadataKind; uri: string | null }, affect: DriverAffect): string;
  /** value null (or empty): remove; an element is re-rooted in the namespace prefix `key` */
  setMetadata(
    uuid: string,
    change: { type: MetadataKind; value: string | null; key: string | null; uri: string | null },
    affect: DriverAffect,
  ): Promise<void>;

  /** is any guest running (for the daemon's -t idle timeout) */
  hasRunningGuests(): boolean;
  onEvent(listener: (event: DomainEvent) => void): () => void;
}
