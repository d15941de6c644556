// The kinds of lifecycle event libvirt sends about a guest (virDomainEventType).

export type LifecycleKind =
  | 'defined'
  | 'undefined'
  | 'started'
  | 'suspended'
  | 'resumed'
  | 'stopped'
  | 'shutdown'
  | 'pmsuspended'
  | 'crashed';

/** virDomainEventType numbers in order: index = libvirt's enum value. */
export const LIFECYCLE_KINDS: readonly LifecycleKind[] = [
  'defined',
  'undefined',
  'started',
  'suspended',
  'resumed',
  'stopped',
  'shutdown',
  'pmsuspended',
  'crashed',
];
