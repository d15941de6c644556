// libvirtd's virCheckFlags for guestd: every flag bit a procedure takes is either understood — and translated into
// the driver's typed flags — or refused with libvirt's own error, never ignored. A bit is understood when the process
// driver honours it, or when what it asks is already so for a process guest (it has no NVRAM, TPM, snapshots or
// checkpoints to remove or keep, no CPU model to update, nothing secret to hide).
import type { DomainRecord, DriverAffect, MetadataKind } from '../driver/driver.js';
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import { apiName } from '../remote/dispatch.js';
import {
  ConnectFlags,
  DefineFlags,
  DestroyFlags,
  GetAllDomainStatsFlags,
  ListAllDomainsFlags as LF,
  MessageFlags,
  MetadataType,
  MigrateFlags,
  ModificationImpact,
  RebootFlags,
  SaveFlags,
  SetTimeFlags,
  ShutdownFlags,
  SnapshotListFlags,
  StartFlags,
  UndefineFlags,
  VcpuFlags,
  XmlFlags,
} from '../remote/enums.js';
import type { ArgsOf, ProcName } from '../remote/protocol.js';

const all = (flags: Record<string, number>): number => Object.values(flags).reduce((a, b) => a | b, 0);

/**
 * Migration: live or not, peer-to-peer or driven by the client, persistence on both ends. A process guest has no
 * disks (NON_SHARED_*, UNSAFE are moot but refused as libvirt refuses what a driver lacks), no config to protect from
 * change during the job beyond the job itself (CHANGE_PROTECTION is so), and a failed stream always aborts
 * (ABORT_ON_ERROR is so). Tunnelled, offline, paused, compressed, post-copy and the rest are not done.
 */
const MIGRATE_FLAGS =
  MigrateFlags.LIVE |
  MigrateFlags.PEER2PEER |
  MigrateFlags.PERSIST_DEST |
  MigrateFlags.UNDEFINE_SOURCE |
  MigrateFlags.CHANGE_PROTECTION |
  MigrateFlags.ABORT_ON_ERROR;

/** the procedures whose arguments carry flags */
export type FlaggedProc = { [K in ProcName]: ArgsOf<K> extends { flags: number } ? K : never }[ProcName];

/** the flag bits each procedure understands; every other bit is refused */
export const SUPPORTED_FLAGS: Record<FlaggedProc, number> = {
  CONNECT_OPEN: ConnectFlags.RO | ConnectFlags.NO_ALIASES,
  CONNECT_LIST_ALL_DOMAINS: all(LF),
  // the list filters; NOWAIT and BACKING ask nothing of a process guest (no waits, no block devices)
  CONNECT_GET_ALL_DOMAIN_STATS: all(GetAllDomainStatsFlags),
  DOMAIN_GET_XML_DESC: all(XmlFlags),
  DOMAIN_GET_STATE: 0,
  DOMAIN_DEFINE_XML_FLAGS: DefineFlags.VALIDATE, // definitions are always validated
  DOMAIN_UNDEFINE_FLAGS: all(UndefineFlags),
  // PAUSED: the guest is paused once started; AUTODESTROY is not understood
  DOMAIN_CREATE_XML: StartFlags.PAUSED | StartFlags.BYPASS_CACHE | StartFlags.VALIDATE,
  DOMAIN_CREATE_WITH_FLAGS: StartFlags.PAUSED | StartFlags.BYPASS_CACHE | StartFlags.FORCE_BOOT | StartFlags.RESET_NVRAM,
  DOMAIN_SHUTDOWN_FLAGS: ShutdownFlags.ACPI_POWER_BTN, // the power button is the only way a process guest is asked
  DOMAIN_DESTROY_FLAGS: DestroyFlags.GRACEFUL,
  DOMAIN_MANAGED_SAVE: SaveFlags.BYPASS_CACHE | SaveFlags.RUNNING | SaveFlags.PAUSED,
  DOMAIN_HAS_MANAGED_SAVE_IMAGE: 0,
  DOMAIN_MANAGED_SAVE_REMOVE: 0,
  DOMAIN_GET_JOB_STATS: 0, // no statistics of completed jobs are kept
  DOMAIN_GET_TIME: 0,
  DOMAIN_SET_TIME: SetTimeFlags.SYNC,
  DOMAIN_GET_METADATA: ModificationImpact.LIVE | ModificationImpact.CONFIG,
  DOMAIN_SET_METADATA: ModificationImpact.LIVE | ModificationImpact.CONFIG,
  DOMAIN_SNAPSHOT_NUM: all(SnapshotListFlags), // a filter of snapshots; there are none
  DOMAIN_GET_MESSAGES: all(MessageFlags),
  DOMAIN_MIGRATE_BEGIN3_PARAMS: MIGRATE_FLAGS,
  DOMAIN_MIGRATE_PREPARE3_PARAMS: MIGRATE_FLAGS,
  DOMAIN_MIGRATE_PERFORM3_PARAMS: MIGRATE_FLAGS,
  DOMAIN_MIGRATE_FINISH3_PARAMS: MIGRATE_FLAGS,
  DOMAIN_MIGRATE_CONFIRM3_PARAMS: MIGRATE_FLAGS,
  DOMAIN_REBOOT: RebootFlags.ACPI_POWER_BTN, // as for shutdown: the power button is the only way
  DOMAIN_RESET: 0,
  DOMAIN_MEMORY_STATS: 0,
  DOMAIN_GET_VCPUS_FLAGS: VcpuFlags.LIVE | VcpuFlags.CONFIG | VcpuFlags.MAXIMUM,
  DOMAIN_GET_CONTROL_INFO: 0,
  CONNECT_GET_SYSINFO: 0,
  NODE_GET_CPU_MAP: 0,
  CONNECT_GET_DOMAIN_CAPABILITIES: 0,
};

/**
 * Refuse the bits of `flags` that `proc` does not understand, in libvirt's words: INVALID_ARG, "unsupported flags
 * (0x…) in function …", the function named as a driver's would be (qemuDomainShutdownFlags → processDomainShutdownFlags).
 */
export function checkFlags(proc: FlaggedProc, flags: number, driverType: string): void {
  const unknown = (flags & ~SUPPORTED_FLAGS[proc]) >>> 0;
  if (unknown === 0) return;
  const fn = `${driverType}${apiName(proc).slice('vir'.length)}`;
  throw new LibvirtError(VirErr.INVALID_ARG, VirFrom.DOM, `unsupported flags (0x${unknown.toString(16)}) in function ${fn}`);
}

export const has = (flags: number, bit: number): boolean => (flags & bit) !== 0;

export const affectOf = (flags: number): DriverAffect => ({
  live: has(flags, ModificationImpact.LIVE),
  config: has(flags, ModificationImpact.CONFIG),
});

const METADATA_KINDS: Record<number, MetadataKind> = {
  [MetadataType.DESCRIPTION]: 'description',
  [MetadataType.TITLE]: 'title',
  [MetadataType.ELEMENT]: 'element',
};

export function metadataKind(type: number): MetadataKind {
  const kind = METADATA_KINDS[type];
  if (!kind) throw new LibvirtError(VirErr.INVALID_ARG, VirFrom.DOM, `invalid argument: unknown metadata type ${type}`);
  return kind;
}

/** The CONNECT_LIST_ALL_DOMAINS filter (virConnectListAllDomains' flag groups: each group given narrows). */
export function matchesListFlags(d: DomainRecord, flags: number): boolean {
  const group = (a: number, b: number, isA: boolean): boolean => {
    if ((flags & (a | b)) === 0 || (flags & (a | b)) === (a | b)) return true;
    return flags & a ? isA : !isA;
  };
  if (!group(LF.ACTIVE, LF.INACTIVE, d.id !== -1)) return false;
  if (!group(LF.PERSISTENT, LF.TRANSIENT, d.persistent)) return false;
  if (!group(LF.MANAGEDSAVE, LF.NO_MANAGEDSAVE, d.hasManagedSave)) return false;
  if (!group(LF.AUTOSTART, LF.NO_AUTOSTART, d.autostart)) return false;
  if (!group(LF.HAS_SNAPSHOT, LF.NO_SNAPSHOT, false)) return false; // no guest has snapshots
  if (!group(LF.HAS_CHECKPOINT, LF.NO_CHECKPOINT, false)) return false; // nor checkpoints
  const stateMask = LF.RUNNING | LF.PAUSED | LF.SHUTOFF | LF.OTHER;
  if (flags & stateMask) {
    const s = d.state;
    const ok =
      (flags & LF.RUNNING && s === 'running') ||
      (flags & LF.PAUSED && s === 'paused') ||
      (flags & LF.SHUTOFF && s === 'shutoff') ||
      (flags & LF.OTHER && !['running', 'paused', 'shutoff'].includes(s));
    if (!ok) return false;
  }
  return true;
}
