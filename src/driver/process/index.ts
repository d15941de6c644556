// The process driver's factory: what guestd (src/daemon) wires up.
import type { Driver } from '../driver.js';
import { ProcessDriver, type ProcessDriverOptions } from './driver.js';

export type { DriverClock, DriverLogger, ProcessDriverOptions } from './driver.js';
export { ProcessDriver } from './driver.js';

export function createProcessDriver(options: ProcessDriverOptions): Driver {
  return new ProcessDriver(options);
}
