// `restart` is stop then start, as the original (`stop && start`, where stop's own status is that of its last
// command, so start runs after a stop with failures too). `condrestart`/`try-restart` do it only when the service
// was started (the lock file exists). The run lock is held across both halves.
import { EXIT } from '../errors.js';
import type { RestartResult } from './result.js';
import { takeRunLock, type Services } from './services.js';
import { startGuests, type StartRequest } from './start.js';
import { stopGuests, type StopRequest } from './stop.js';

export async function restartService(
  command: RestartResult['command'],
  stop: StopRequest,
  start: StartRequest,
  services: Services,
): Promise<RestartResult> {
  if (command !== 'restart' && !(await services.files.exists(stop.lockFile))) {
    return { command, exit: EXIT.OK, ran: false };
  }
  // one lock for both halves, so no other run slips in between the stop and the start
  const lock = await takeRunLock(services, stop.listFile, stop.config.LOCK_TIMEOUT, stop.dryRun);
  try {
    const stopped = await stopGuests({ ...stop, lockHeld: true }, services);
    // a dry-run stop writes no list: the start is planned from the one it would have written
    const started = await startGuests({ ...start, lockHeld: true, ...(stop.dryRun ? { list: stopped.list } : {}) }, services);
    return { command, exit: stopped.exit !== EXIT.OK ? stopped.exit : started.exit, ran: true, stop: stopped, start: started };
  } finally {
    await lock?.release();
  }
}
