// Flag bits, enum values and typed-parameter names of libvirt's API (libvirt-domain.h, libvirt-host.h; Feature is
// the drivers' virDrvFeature), by libvirt's numbers and names: what goes into the REMOTE procedures' flags and
// typed parameters and what comes back in their replies. The procedures themselves, as XDR types, are protocol.ts's.
export const ConnectFlags = { RO: 1, NO_ALIASES: 2 } as const;
export const AuthType = { NONE: 0, SASL: 1, POLKIT: 2 } as const;
/** virDrvFeature numbers virsh asks about */
export const Feature = {
  MIGRATION_P2P: 4,
  MIGRATION_V3: 6,
  PROGRAM_KEEPALIVE: 10,
  MIGRATION_PARAMS: 13,
  REMOTE_EVENT_CALLBACK: 14,
  REMOTE_CLOSE_CALLBACK: 15,
} as const;
/** virDomainMigrateFlags */
export const MigrateFlags = {
  LIVE: 1,
  PEER2PEER: 2,
  TUNNELLED: 4,
  PERSIST_DEST: 8,
  UNDEFINE_SOURCE: 16,
  PAUSED: 32,
  NON_SHARED_DISK: 64,
  NON_SHARED_INC: 128,
  CHANGE_PROTECTION: 256,
  UNSAFE: 512,
  OFFLINE: 1024,
  COMPRESSED: 2048,
  ABORT_ON_ERROR: 4096,
  AUTO_CONVERGE: 8192,
} as const;
/** typed-param names of the migration procedures (VIR_MIGRATE_PARAM_*) */
export const MigrateParam = {
  URI: 'migrate_uri',
  DEST_NAME: 'destination_name',
  DEST_XML: 'destination_xml',
  PERSIST_XML: 'persistent_xml',
  BANDWIDTH: 'bandwidth',
  LISTEN_ADDRESS: 'listen_address',
} as const;
export const ListAllDomainsFlags = {
  ACTIVE: 1,
  INACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  RUNNING: 16,
  PAUSED: 32,
  SHUTOFF: 64,
  OTHER: 128,
  MANAGEDSAVE: 256,
  NO_MANAGEDSAVE: 512,
  AUTOSTART: 1024,
  NO_AUTOSTART: 2048,
  HAS_SNAPSHOT: 4096,
  NO_SNAPSHOT: 8192,
  HAS_CHECKPOINT: 16384,
  NO_CHECKPOINT: 32768,
} as const;
/** virDomainStatsTypes: the groups of CONNECT_GET_ALL_DOMAIN_STATS */
export const DomainStats = { STATE: 1, CPU_TOTAL: 2, BALLOON: 4 } as const;
/** typed-param names of those groups' records (libvirt's VIR_DOMAIN_STATS_* names) */
export const DomainStatsField = {
  STATE: 'state.state',
  REASON: 'state.reason',
  CPU_TIME: 'cpu.time',
  BALLOON_CURRENT: 'balloon.current',
  BALLOON_MAXIMUM: 'balloon.maximum',
} as const;
/** virConnectGetAllDomainStatsFlags: the list filters (the same bits as ListAllDomainsFlags' first eight) and these */
const { ACTIVE, INACTIVE, PERSISTENT, TRANSIENT, RUNNING, PAUSED, SHUTOFF, OTHER } = ListAllDomainsFlags;
export const GetAllDomainStatsFlags = {
  ...{ ACTIVE, INACTIVE, PERSISTENT, TRANSIENT, RUNNING, PAUSED, SHUTOFF, OTHER },
  NOWAIT: 1 << 29,
  BACKING: 1 << 30,
  ENFORCE_STATS: 2 ** 31,
} as const;
export const SaveFlags = { BYPASS_CACHE: 1, RUNNING: 2, PAUSED: 4 } as const;
export const StartFlags = { PAUSED: 1, AUTODESTROY: 2, BYPASS_CACHE: 4, FORCE_BOOT: 8, VALIDATE: 16, RESET_NVRAM: 32 } as const;
export const SetTimeFlags = { SYNC: 1 } as const;
export const UndefineFlags = {
  MANAGED_SAVE: 1,
  SNAPSHOTS_METADATA: 2,
  NVRAM: 4,
  KEEP_NVRAM: 8,
  CHECKPOINTS_METADATA: 16,
  TPM: 32,
  KEEP_TPM: 64,
} as const;
export const DestroyFlags = { DEFAULT: 0, GRACEFUL: 1, REMOVE_LOGS: 2 } as const;
export const ShutdownFlags = { DEFAULT: 0, ACPI_POWER_BTN: 1, GUEST_AGENT: 2, INITCTL: 4, SIGNAL: 8, PARAVIRT: 16 } as const;
/** virDomainXMLFlags */
export const XmlFlags = { SECURE: 1, INACTIVE: 2, UPDATE_CPU: 4, MIGRATABLE: 8 } as const;
export const DefineFlags = { VALIDATE: 1 } as const;
/** virDomainMessageType */
export const MessageFlags = { DEPRECATION: 1, TAINTING: 2 } as const;
/** virDomainSnapshotListFlags (DESCENDANTS and ROOTS share a bit) */
export const SnapshotListFlags = {
  ROOTS: 1,
  METADATA: 2,
  LEAVES: 4,
  NO_LEAVES: 8,
  NO_METADATA: 16,
  INACTIVE: 32,
  ACTIVE: 64,
  DISK_ONLY: 128,
  INTERNAL: 256,
  EXTERNAL: 512,
  TOPOLOGICAL: 1024,
} as const;
export const MetadataType = { DESCRIPTION: 0, TITLE: 1, ELEMENT: 2 } as const;
export const ModificationImpact = { CURRENT: 0, LIVE: 1, CONFIG: 2 } as const;
/** virDomainEventID: COUNT is VIR_DOMAIN_EVENT_ID_LAST of libvirt 9 (MEMORY_DEVICE_SIZE_CHANGE is 26) */
export const DomainEventId = { LIFECYCLE: 0, REBOOT: 1, COUNT: 27 } as const;
/** virDomainRebootFlagValues */
export const RebootFlags = { DEFAULT: 0, ACPI_POWER_BTN: 1, GUEST_AGENT: 2, INITCTL: 4, SIGNAL: 8, PARAVIRT: 16 } as const;
/** virDomainVcpuFlags (with virDomainModificationImpact's LIVE and CONFIG) */
export const VcpuFlags = { LIVE: 1, CONFIG: 2, MAXIMUM: 4, GUEST: 8, HOTPLUGGABLE: 16 } as const;
/** virDomainMemoryStatTags, by libvirt's numbers; index = tag */
export const MEMORY_STAT_TAGS = [
  'swap_in',
  'swap_out',
  'major_fault',
  'minor_fault',
  'unused',
  'available',
  'actual',
  'rss',
  'usable',
  'last_update',
  'disk_caches',
  'hugetlb_pgalloc',
  'hugetlb_pgfail',
] as const;
/** virDomainControlState */
export const ControlState = { OK: 0, JOB: 1, OCCUPIED: 2, ERROR: 3 } as const;
/** virVcpuState */
export const VcpuState = { OFFLINE: 0, RUNNING: 1, BLOCKED: 2 } as const;
/** virDomainJobType */
export const JobType = { NONE: 0, BOUNDED: 1, UNBOUNDED: 2, COMPLETED: 3, FAILED: 4, CANCELLED: 5 } as const;
/** virDomainJobOperation */
export const JobOperation = { SAVE: 2 } as const;
export const JobStatsFlags = { COMPLETED: 1, KEEP_COMPLETED: 2 } as const;
/** typed-param field names of DOMAIN_GET_JOB_STATS (VIR_DOMAIN_JOB_*) */
export const JobField = {
  OPERATION: 'operation',
  TIME_ELAPSED: 'time_elapsed',
  TIME_REMAINING: 'time_remaining',
  DATA_TOTAL: 'data_total',
  DATA_PROCESSED: 'data_processed',
  DATA_REMAINING: 'data_remaining',
  MEMORY_TOTAL: 'memory_total',
  MEMORY_PROCESSED: 'memory_processed',
  MEMORY_REMAINING: 'memory_remaining',
} as const;
