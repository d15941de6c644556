// The table of operations every guest driver offers to guestd. The daemon (src/daemon) maps REMOTE procedures onto
// it and never knows which driver it talks to. Drivers throw LibvirtError (src/remote/error.ts) with libvirt's
// numbers, so the daemon can send them over the wire unchanged.
import type { DomainState, JobProgress, LifecycleKind } from '../connect/connection.js';

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

export interface DriverStartFlags {
  bypassCache?: boolean;
  forceBoot?: boolean;
  paused?: boolean;
}

export interface Driver {
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
  /** flags: libvirt's VIR_DOMAIN_UNDEFINE_* (MANAGED_SAVE = 1) */
  undefine(uuid: string, flags: number): Promise<void>;
  /** a transient guest, started at once */
  createXML(xml: string, flags: DriverStartFlags): Promise<DomainRecord>;
  create(uuid: string, flags: DriverStartFlags): Promise<DomainRecord>;
  shutdown(uuid: string): Promise<void>;
  destroy(uuid: string): Promise<void>;
  getXMLDesc(uuid: string): string;

  managedSave(uuid: string, flags: { bypassCache?: boolean }): Promise<void>;
  managedSaveRemove(uuid: string): Promise<void>;
  jobStats(uuid: string): JobProgress;
  abortJob(uuid: string): Promise<void>;

  getTime(uuid: string): Promise<{ seconds: bigint; nseconds: number }>;
  setTime(uuid: string, time: { sync: true } | { seconds: bigint; nseconds: number }): Promise<void>;

  setAutostart(uuid: string, autostart: boolean): Promise<void>;
  /** type: VIR_DOMAIN_METADATA_* (0 description, 1 title, 2 element) */
  getMetadata(uuid: string, type: number, uri: string | null): string;
  setMetadata(uuid: string, type: number, value: string | null, key: string | null, uri: string | null): Promise<void>;

  /** is any guest running (for the daemon's -t idle timeout) */
  hasRunningGuests(): boolean;
  onEvent(listener: (event: DomainEvent) => void): () => void;
}
