// What every room of the process driver works with: the domain table, the files, events, the log and time.
import type { Clock } from '../../effects/clock.js';
import type { DomainTable } from './domain-table.js';
import type { DomainEvents } from './events.js';
import type { DriverLogger, DriverTiming } from './options.js';
import type { Store } from './store.js';

export interface DriverContext {
  readonly table: DomainTable;
  readonly store: Store;
  readonly events: DomainEvents;
  readonly log: DriverLogger;
  readonly clock: Clock;
  readonly timing: DriverTiming;
}
