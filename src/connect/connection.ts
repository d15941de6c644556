// The Connection contract: exactly what the orchestrator (libvirt-guests) and guestctl need from a libvirt host.
// Two implementations: native (libvirt's RPC protocol, src/remote) and virsh (execa). One contract test suite
// (test/e2e/connection-contract) runs against both.
import type { DomainState } from '../libvirt/domain-state.js';
import type { JobProgress } from '../libvirt/job.js';
import type { LifecycleKind } from '../libvirt/lifecycle.js';

/** Identifies a guest on one connection. `id` is -1 when the guest is not running. */
export interface GuestRef {
  uuid: string; // canonical lowercase 8-4-4-4-12 form
  name: string;
  id: number;
}

export interface GuestInfo extends GuestRef {
  state: DomainState;
  persistent: boolean;
}

export interface ListFilter {
  /** which guests: running ones (default), inactive ones, or all */
  which?: 'active' | 'inactive' | 'all';
  /** restrict to persistent or transient guests; both when absent */
  persistence?: 'persistent' | 'transient';
}

export interface ManagedSaveOptions {
  bypassCache?: boolean;
  /** aborting the signal aborts the job on the host (DOMAIN_ABORT_JOB) and rejects with OPERATION_ABORTED */
  signal?: AbortSignal;
  /** called with job progress while the save runs (polled every progressIntervalMs, default 1000) */
  onProgress?: (progress: JobProgress) => void;
  progressIntervalMs?: number;
}

export interface StartOptions {
  bypassCache?: boolean;
  /** discard a managed save image and boot fresh */
  forceBoot?: boolean;
}

export interface MigrateOptions {
  /** copy the memory while the guest runs (VIR_MIGRATE_LIVE) */
  live?: boolean;
  /** define the guest persistently on the destination (VIR_MIGRATE_PERSIST_DEST) */
  persistent?: boolean;
  /** remove the guest's definition here once it runs there (VIR_MIGRATE_UNDEFINE_SOURCE) */
  undefineSource?: boolean;
  /** aborting the signal aborts the migration job (DOMAIN_ABORT_JOB): the guest runs on here */
  signal?: AbortSignal;
}

export interface LifecycleEvent {
  guest: GuestRef;
  kind: LifecycleKind;
  /** libvirt's event number and detail, unchanged */
  event: number;
  detail: number;
  /** ms since the epoch, when the client received it */
  receivedAt: number;
}

export interface Connection {
  /** the URI as the user gave it */
  readonly uri: string;
  readonly backend: 'native' | 'virsh';

  /** in virsh's order: running guests by id, then the others by name */
  listGuests(filter?: ListFilter): Promise<GuestInfo[]>;
  /** by uuid or name; LibvirtError NO_DOMAIN when absent */
  lookup(uuidOrName: string): Promise<GuestRef>;
  state(guest: GuestRef): Promise<{ state: DomainState; reason: number }>;
  isPersistent(guest: GuestRef): Promise<boolean>;
  hasManagedSave(guest: GuestRef): Promise<boolean>;

  managedSave(guest: GuestRef, options?: ManagedSaveOptions): Promise<void>;
  jobInfo(guest: GuestRef): Promise<JobProgress>;
  abortJob(guest: GuestRef): Promise<void>;
  managedSaveRemove(guest: GuestRef): Promise<void>;

  /** start, restoring from a managed save image when there is one; returns the guest with its new id */
  start(guest: GuestRef, options?: StartOptions): Promise<GuestRef>;
  /** ask for an ACPI shutdown; returns when the request was accepted, not when the guest is off */
  shutdown(guest: GuestRef): Promise<void>;
  destroy(guest: GuestRef): Promise<void>;

  /**
   * Move a running guest to the host at `destUri`, peer to peer: this host's daemon connects to the destination and
   * drives the migration (so `destUri` is as this host's daemon reaches the peer). Fails with the guest still here.
   */
  migrate(guest: GuestRef, destUri: string, options?: MigrateOptions): Promise<void>;

  /** `sync: true` asks the guest agent to take the host's time (domtime --sync) */
  setTime(guest: GuestRef, time: { sync: true } | { seconds: number; nseconds: number }): Promise<void>;
  getTime(guest: GuestRef): Promise<{ seconds: number; nseconds: number }>;

  /** custom metadata element in namespace `uri`, or null when absent */
  getMetadata(guest: GuestRef, uri: string): Promise<string | null>;
  /**
   * sets (`xml`) or removes (null) the custom metadata element in namespace `uri`, prefix `key`: in the persistent
   * config and, while the guest runs, in its live definition too (a transient guest: the live one only)
   */
  setMetadata(guest: GuestRef, uri: string, key: string, xml: string | null): Promise<void>;

  /** subscribe to lifecycle events of every guest; resolves to an unsubscribe function */
  onLifecycle(listener: (event: LifecycleEvent) => void): Promise<() => Promise<void>>;

  close(): Promise<void>;
}
