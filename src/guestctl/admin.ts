// What guestctl needs beyond the orchestrator's Connection contract: defining, creating and undefining guests,
// autostart, the numbers of `dominfo`, and the host's type/version. The native connection (src/connect/native.ts)
// implements it; a connection without it makes those commands fail with a clear message.
import type { Connection, DomainState, GuestRef } from '../connect/connection.js';
import { OperationError } from '../errors.js';
import { createRemoteAdmin, remoteClientOf } from './remote-admin.js';

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

export interface GuestAdmin {
  defineXML(xml: string): Promise<GuestRef>;
  /** managedSave: also remove a managed save image (VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) */
  undefine(guest: GuestRef, options?: { managedSave?: boolean }): Promise<void>;
  createXML(xml: string): Promise<GuestRef>;
  getAutostart(guest: GuestRef): Promise<boolean>;
  setAutostart(guest: GuestRef, autostart: boolean): Promise<void>;
  details(guest: GuestRef): Promise<DomainDetails>;
  version(): Promise<HostVersion>;
  getXMLDesc(guest: GuestRef): Promise<string>;
}

export function hasAdmin(connection: Connection): connection is Connection & GuestAdmin {
  const c = connection as Partial<GuestAdmin>;
  return typeof c.defineXML === 'function' && typeof c.details === 'function' && typeof c.version === 'function';
}

/** The connection's own GuestAdmin, or one over its REMOTE client, or a clear error. */
export function requireAdmin(connection: Connection, command: string): GuestAdmin {
  if (hasAdmin(connection)) return connection;
  const remote = remoteClientOf(connection);
  if (remote) return createRemoteAdmin(remote);
  throw new OperationError(
    'unsupported',
    `'${command}' is not available over the ${connection.backend} backend for ${connection.uri}`,
    { hint: 'Use virsh for this host, or a URI the native client speaks (guest+unix://, qemu:///system, …).' },
  );
}
