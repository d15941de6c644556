// A transfer held to a rate (behavior's save-mib-per-second: a save image written, memory sent to a migration's
// destination), as a slow disk or network would hold it.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * For a transfer begun at `startedAt` (Date.now()) at `mibPerSecond` (0: as fast as it goes): waits until
 * `bytesDone` bytes are due; false, at once, when the transfer is not held to a rate.
 */
export function pacer(mibPerSecond: number, startedAt: number): (bytesDone: number) => Promise<boolean> {
  const bytesPerMs = mibPerSecond > 0 ? (mibPerSecond * 1048576) / 1000 : 0;
  return async (bytesDone) => {
    if (bytesPerMs === 0) return false;
    const ahead = bytesDone / bytesPerMs - (Date.now() - startedAt);
    if (ahead > 0) await sleep(ahead);
    return true;
  };
}
