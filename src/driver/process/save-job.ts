// Managed save as a job: the guest streams its memory to `<state>/save/<name>.save` with progress, can be aborted,
// and ends once the image is on disk. Its job shows in DOMAIN_GET_JOB_INFO/STATS while it runs.
import type { JobProgress } from '../../libvirt/job.js';
import type { DriverSaveFlags } from '../driver.js';
import { imageSize } from '../../guest/image.js';
import { SHUTOFF } from './constants.js';
import type { DriverContext } from './context.js';
import { definitionOf, monitorOf, noJob, runningOf, type Job } from './domain-table.js';
import { operationAborted, operationFailed, operationInvalid } from './errors.js';
import type { GuestProcesses } from './guest-process.js';
import { MonitorCommandError } from './monitor-client.js';

export class SaveJobs {
  constructor(
    private readonly ctx: DriverContext,
    private readonly processes: GuestProcesses,
  ) {}

  /** `paused` / `running`: how the restore leaves the guest; neither: as it is (suspended or not) when the save begins */
  managedSave(uuid: string, flags: DriverSaveFlags): Promise<void> {
    const { table, store, clock, log } = this.ctx;
    const dom = table.byUuid(uuid);
    return dom.queue(async () => {
      const run = runningOf(dom);
      if (!dom.config) throw operationInvalid('cannot do managed save for transient domain');
      noJob(dom);
      const monitor = monitorOf(dom);
      const file = store.savePath(dom.name);
      const job: Job = { kind: 'domain save', startedAt: clock.now(), processed: 0, total: imageSize(definitionOf(dom).memoryKiB * 1024) };
      dom.job = job;
      let reply;
      try {
        const restore = flags.paused ? { paused: true } : flags.running ? { paused: false } : {};
        reply = await monitor.call('save', { file, bypassCache: flags.bypassCache ?? false, ...restore });
      } catch (err) {
        if (dom.job === job) dom.job = null;
        if (err instanceof MonitorCommandError && err.errorClass === 'Aborted')
          throw operationAborted("job 'domain save' canceled by client");
        if (!dom.run || dom.run !== run) throw operationFailed(`domain '${dom.name}' stopped during the save`);
        throw operationFailed(`managed save of domain '${dom.name}' failed: ${(err as Error).message}`, err);
      }
      job.processed = job.total;
      dom.stopping = 'saved';
      log.info(
        `domain '${dom.name}': saved ${reply.bytes} bytes to ${reply.file} in ${clock.now() - job.startedAt} ms ` +
          `(${reply.method}), to restore ${reply.paused ? 'paused' : 'running'}`,
      );
      await this.processes.endAfterSave(dom, run);
    });
  }

  managedSaveRemove(uuid: string): Promise<void> {
    const { table, store } = this.ctx;
    const dom = table.byUuid(uuid);
    return dom.queue(async () => {
      if (!store.hasManagedSave(dom.name)) throw operationInvalid(`domain '${dom.name}' has no managed save image`);
      store.removeManagedSave(dom.name);
      if (!dom.run && dom.reason === SHUTOFF.SAVED) dom.reason = SHUTOFF.UNKNOWN;
    });
  }

  jobStats(uuid: string): JobProgress {
    const job = this.ctx.table.byUuid(uuid).job;
    if (!job) return { type: 'none' };
    return {
      type: 'bounded',
      dataTotal: job.total,
      dataProcessed: job.processed,
      dataRemaining: Math.max(0, job.total - job.processed),
      timeElapsedMs: this.ctx.clock.now() - job.startedAt,
    };
  }

  async abortJob(uuid: string): Promise<void> {
    const dom = this.ctx.table.byUuid(uuid);
    runningOf(dom);
    if (!dom.job) throw operationInvalid('no job is active on the domain');
    try {
      await monitorOf(dom).call('save-cancel');
    } catch (err) {
      if (err instanceof MonitorCommandError && err.errorClass === 'NoJob') throw operationInvalid('no job is active on the domain');
      throw operationFailed(`cannot abort the job of domain '${dom.name}': ${(err as Error).message}`, err);
    }
  }
}
