// What guestctl needs beyond the orchestrator's Connection contract: defining, creating and undefining guests,
// autostart, the numbers of `dominfo`, and the host's type/version. Only the native backend can do it (over its
// REMOTE client, remote-admin.ts); the virsh backend has no such calls.
import type { GuestRef } from '../connect/connection.js';
import type { DomainState } from '../libvirt/domain-state.js';

export interface DomainDetails {
  state: DomainState;
  osType: string;
  maxMemKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: bigint;
  persistent: boolean;
  autostart: boolean;
  hasManagedSave: boolean;
}

export interface HostVersion {
  /** CONNECT_GET_TYPE, e.g. "guestd" or "QEMU" */
  type: string;
  /** major·1e6 + minor·1e3 + micro */
  hypervisorVersion: number;
  libraryVersion: number;
}

/** virsh nodeinfo's facts */
export interface NodeInfo {
  model: string;
  cpus: number;
  mhz: number;
  sockets: number;
  cores: number;
  threads: number;
  nodes: number;
  memoryKiB: number;
}

/** virsh dommemstat's lines: libvirt's stat names (actual, rss…) with their values, in the order sent */
export type MemoryStats = { name: string; value: number }[];

export interface GuestAdmin {
  suspend(guest: GuestRef): Promise<void>;
  resume(guest: GuestRef): Promise<void>;
  reboot(guest: GuestRef): Promise<void>;
  reset(guest: GuestRef): Promise<void>;
  memoryStats(guest: GuestRef): Promise<MemoryStats>;
  nodeInfo(): Promise<NodeInfo>;
  capabilities(): Promise<string>;
  defineXML(xml: string): Promise<GuestRef>;
  /** managedSave: also remove a managed save image (VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) */
  undefine(guest: GuestRef, options?: { managedSave?: boolean }): Promise<void>;
  createXML(xml: string): Promise<GuestRef>;
  setAutostart(guest: GuestRef, autostart: boolean): Promise<void>;
  details(guest: GuestRef): Promise<DomainDetails>;
  version(): Promise<HostVersion>;
  getXMLDesc(guest: GuestRef): Promise<string>;
}
