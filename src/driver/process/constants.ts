// libvirt's public enum values (include/libvirt/libvirt-domain.h), unchanged on the wire.

/** virDomainEventType */
export const EVENT = { DEFINED: 0, UNDEFINED: 1, STARTED: 2, SUSPENDED: 3, RESUMED: 4, STOPPED: 5, SHUTDOWN: 6 } as const;
/** virDomainEventDefinedDetailType */
export const DEFINED = { ADDED: 0, UPDATED: 1 } as const;
/** virDomainEventUndefinedDetailType */
export const UNDEFINED = { REMOVED: 0 } as const;
/** virDomainEventStartedDetailType */
export const STARTED = { BOOTED: 0, MIGRATED: 1, RESTORED: 2 } as const;
/** virDomainEventStoppedDetailType */
export const STOPPED = { SHUTDOWN: 0, DESTROYED: 1, CRASHED: 2, MIGRATED: 3, SAVED: 4, FAILED: 5 } as const;
/** virDomainEventShutdownDetailType FINISHED */
export const SHUTDOWN_FINISHED = 0;

/** virDomainEventSuspendedDetailType */
export const SUSPENDED = { PAUSED: 0, RESTORED: 4 } as const;
/** virDomainEventResumedDetailType UNPAUSED, MIGRATED */
export const RESUMED_UNPAUSED = 0;
export const RESUMED_MIGRATED = 1;

/** virDomainRunningReason */
export const RUNNING = { UNKNOWN: 0, BOOTED: 1, MIGRATED: 2, RESTORED: 3, UNPAUSED: 5, MIGRATION_CANCELED: 6 } as const;
/** virDomainPausedReason */
export const PAUSED = { UNKNOWN: 0, USER: 1, MIGRATION: 2 } as const;
/** virDomainShutoffReason */
export const SHUTOFF = { UNKNOWN: 0, SHUTDOWN: 1, DESTROYED: 2, CRASHED: 3, MIGRATED: 4, SAVED: 5, FAILED: 6 } as const;
