// A guest's process: spawned detached (it outlives the daemon), followed through its monitor and a liveness check
// (liveness.ts), asked to power down or destroyed, and settled when it ends: shut down, destroyed, saved or failed,
// with libvirt's reasons and events. A broken monitor connection is not the guest's end: the guest is taken up again.
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isSameProcess, processStartTime, signalProcess } from '../../effects/processes.js';
import type { PowerOffReason, SaveProgress } from '../../guest/protocol.js';
import type { DriverDestroyFlags } from '../driver.js';
import { EVENT, PAUSED, RESUMED_UNPAUSED, RUNNING, SHUTDOWN_FINISHED, SHUTOFF, STOPPED, SUSPENDED } from './constants.js';
import type { DriverContext } from './context.js';
import { definitionOf, monitorOf, newRunning, noJob, runningOf, type Dom, type Job, type Running } from './domain-table.js';
import { operationFailed, operationInvalid } from './errors.js';
import { eventRef } from './events.js';
import { LaunchError, type Launcher } from './launcher.js';
import { endsWithin, settlesWithin, watchLiveness } from './liveness.js';
import { MonitorClient } from './monitor-client.js';
import type { RuntimeStatus } from './store.js';
import { formatDomainXML, type DomainDef } from './xml/domain.js';

export interface SpawnHow {
  /** restore from this managed save image instead of booting */
  restoreFile?: string;
  bypassCache?: boolean;
  /** come up paused (start --paused); without it, a restore comes up as its image says (paused if saved paused) */
  paused?: boolean;
  /** the image is still being written (an incoming migration): the runtime starts now and restores once it is there */
  awaitRestore?: boolean;
  /** the domain id to keep (a guest restarted by reboot or reset keeps its id) */
  id?: number;
  /** the job the guest comes up in: an incoming migration's, until its FINISH3 */
  job?: Job;
}

/** a guest restored by an incoming migration, its FINISH3 still to come: marked so in its status file */
const incomingMark = (job: Job | null | undefined): { incoming?: true } => (job?.kind === 'migration in' ? { incoming: true } : {});

/** how a running guest is restarted: reboot (it shut down when asked) or reset (it was killed) */
export type RestartKind = 'reboot' | 'reset';

const STOP_REASONS: Record<PowerOffReason, [reason: number, detail: number]> = {
  shutdown: [SHUTOFF.SHUTDOWN, STOPPED.SHUTDOWN],
  destroyed: [SHUTOFF.DESTROYED, STOPPED.DESTROYED],
  saved: [SHUTOFF.SAVED, STOPPED.SAVED],
  failed: [SHUTOFF.FAILED, STOPPED.FAILED],
  migrated: [SHUTOFF.MIGRATED, STOPPED.MIGRATED],
};

export class GuestProcesses {
  private closing = false;
  private readonly watching = new AbortController();
  /** guests whose end is being settled (once each) */
  private readonly settling = new WeakSet<Running>();
  /** guests to start again when they end, rather than shut off (reboot, reset) */
  private readonly restarts = new WeakMap<Running, RestartKind>();

  constructor(
    private readonly ctx: DriverContext,
    private readonly launch: Launcher,
  ) {}

  /** look at the processes of running guests every livenessIntervalMs, until close() */
  watch(): void {
    void watchLiveness(this.ctx, this.watching.signal, (dom) => void this.ended(dom));
  }

  /** stop watching and drop every monitor connection; the guests run on */
  close(): void {
    this.closing = true;
    this.watching.abort();
    for (const dom of this.ctx.table.all()) dom.run?.monitor?.close();
  }

  /** start the runtime for `dom` and connect to its monitor; the guest is recorded from the moment it exists */
  async spawn(dom: Dom, def: DomainDef, how: SpawnHow = {}): Promise<void> {
    const { store, clock, timing, table } = this.ctx;
    const monitorPath = store.monitorPath(dom.uuid);
    const id = how.id ?? table.takeId();
    const reason = how.restoreFile ? RUNNING.RESTORED : RUNNING.BOOTED;
    const startedAt = new Date(clock.now()).toISOString();
    // recorded as soon as the process exists: a daemon killed while the guest boots or restores must find it, or the
    // next start would run a second copy beside the orphan
    const recordSpawn = (pid: number): void => {
      const startTime = processStartTime(pid);
      if (startTime === null) return;
      store.writeStatusSync({
        uuid: dom.uuid,
        name: def.name,
        id,
        pid,
        startTime,
        monitor: monitorPath,
        startedAt,
        reason,
        persistent: dom.config !== null,
        xml: formatDomainXML(def),
        ...incomingMark(how.job),
      });
    };
    let launched: { pid: number };
    try {
      launched = await this.launch(
        {
          name: def.name,
          uuid: def.uuid,
          memoryBytes: def.memoryKiB * 1024,
          monitorPath,
          behavior: def.behavior,
          logFile: store.logPath(def.name),
          timeoutMs: how.restoreFile ? timing.restoreTimeoutMs : timing.bootTimeoutMs,
          onSpawn: recordSpawn,
          ...(how.restoreFile ? { restoreFile: how.restoreFile } : {}),
          ...(how.bypassCache ? { bypassCache: true } : {}),
          ...(how.paused ? { paused: true } : {}),
          ...(how.awaitRestore ? { awaitRestore: true } : {}),
        },
        clock,
      );
    } catch (err) {
      store.removeStatus(def.name); // the launcher ended the process
      if (err instanceof LaunchError && how.restoreFile) throw err;
      throw operationFailed(`cannot start domain '${def.name}': ${(err as Error).message}`, err);
    }
    const startTime = processStartTime(launched.pid);
    if (startTime === null) {
      store.removeStatus(def.name);
      throw operationFailed(`domain '${def.name}': the guest process ${launched.pid} ended right after starting`);
    }
    dom.live = def;
    dom.id = id;
    dom.stopping = null;
    dom.job = how.job ?? null;
    dom.run = newRunning({ pid: launched.pid, startTime, monitorPath, monitor: null, startedAt });
    dom.state = 'running';
    dom.reason = reason;
    await this.writeStatus(dom); // what changed since the spawn (a define meanwhile)
    try {
      const monitor = await MonitorClient.connect(monitorPath, timing.greetingTimeoutMs);
      dom.run.monitor = monitor;
      this.attach(dom, monitor);
    } catch (err) {
      signalProcess(launched.pid, startTime, 'SIGKILL');
      this.settle(dom, 'failed', false);
      throw operationFailed(`domain '${def.name}': cannot connect to the guest monitor: ${(err as Error).message}`, err);
    }
    if (dom.run.monitor.greeting.paused) {
      // started paused, or restored from an image saved paused: it stands still until resumed (the caller says so)
      dom.state = 'paused';
      dom.reason = PAUSED.USER;
      await this.writeStatus(dom);
    }
  }

  /** the runtime status file of a running guest, as the domain is now */
  async writeStatus(dom: Dom): Promise<void> {
    const run = dom.run;
    if (!run) return;
    const status: RuntimeStatus = {
      uuid: dom.uuid,
      name: dom.name,
      id: dom.id,
      pid: run.pid,
      startTime: run.startTime,
      monitor: run.monitorPath,
      startedAt: run.startedAt,
      reason: dom.reason,
      persistent: dom.config !== null,
      xml: formatDomainXML(definitionOf(dom)),
      ...incomingMark(dom.job),
    };
    await this.ctx.store.writeStatus(status);
  }

  /** a new connection to the monitor of a live guest; one still booting or restoring gets time to open it */
  async reconnect(guest: { pid: number; startTime: string; monitorPath: string }): Promise<MonitorClient> {
    const { clock, timing } = this.ctx;
    const deadline = clock.now() + timing.reconnectTimeoutMs;
    for (;;) {
      try {
        return await MonitorClient.connect(guest.monitorPath, timing.greetingTimeoutMs);
      } catch (err) {
        if (clock.now() >= deadline || !isSameProcess(guest.pid, guest.startTime)) throw err;
        await clock.sleep(timing.pollMs);
      }
    }
  }

  /**
   * Manage a running guest through a monitor connected anew (after a daemon restart, or a broken connection). A save
   * it is in the middle of is followed, so that its job shows (libvirt-guests' start waits on it). True when saving.
   */
  follow(dom: Dom, monitor: MonitorClient): boolean {
    this.attach(dom, monitor); // before any wait: the guest may end meanwhile
    const { status, paused } = monitor.greeting;
    // its migration's last pass is done and it waits for the confirm (which a daemon that died will never send): as
    // libvirt recovers such a migration, it stays paused (migrating) until a client resumes or destroys it
    if (status === 'paused' || paused) {
      dom.state = 'paused';
      dom.reason = status === 'paused' ? PAUSED.MIGRATION : PAUSED.USER;
    }
    const save = monitor.greeting.status === 'saving' ? monitor.greeting.save : null;
    if (!save) return false;
    dom.job = { kind: 'domain save', startedAt: this.ctx.clock.now() - save.elapsedMs, processed: save.processed, total: save.total };
    this.ctx.log.info(`domain '${dom.name}': its save is running (${save.processed} of ${save.total} bytes); following it`);
    return true;
  }

  /** ask the guest to power down (the ACPI power button); it ends when it has */
  async shutdown(dom: Dom): Promise<void> {
    runningOf(dom);
    if (dom.state === 'paused') throw operationInvalid('domain is not running'); // libvirt's: a paused guest sees no button
    noJob(dom);
    await monitorOf(dom)
      .call('system_powerdown')
      .catch((err: unknown) => {
        throw operationFailed(`cannot shut down domain '${dom.name}': ${(err as Error).message}`, err);
      });
  }

  /**
   * end the guest now: SIGTERM (the runtime drops a partial save image), SIGKILL if it does not go (unless graceful);
   * shut off as destroyed, or `why` (an incoming migration's guest that was never finished ends as failed)
   */
  async destroy(dom: Dom, flags: DriverDestroyFlags, why: PowerOffReason = 'destroyed'): Promise<void> {
    const run = runningOf(dom);
    const { killTimeoutMs } = this.ctx.timing;
    const before = dom.stopping;
    dom.stopping = why;
    signalProcess(run.pid, run.startTime, 'SIGTERM');
    if (!(await endsWithin(this.ctx, run, killTimeoutMs))) {
      if (flags.graceful) {
        if (dom.run === run) dom.stopping = before;
        throw operationFailed(`domain '${dom.name}': process ${run.pid} did not end on SIGTERM (a graceful destroy does not kill)`);
      }
      signalProcess(run.pid, run.startTime, 'SIGKILL');
      if (!(await endsWithin(this.ctx, run, killTimeoutMs)))
        throw operationFailed(`domain '${dom.name}': process ${run.pid} did not die`);
    }
    await this.ended(dom);
    await run.exited;
  }

  /** a guest whose save is on disk ends by itself; one that does not within savedExitTimeoutMs is killed */
  async endAfterSave(dom: Dom, run: Running): Promise<void> {
    if (await settlesWithin(this.ctx.clock, this.ctx.timing.savedExitTimeoutMs, () => run.exited)) return;
    signalProcess(run.pid, run.startTime, 'SIGKILL');
    await this.ended(dom);
  }

  /** the monitor closed or the pid vanished: wait for the process to end, then settle the domain */
  async ended(dom: Dom): Promise<void> {
    const run = dom.run;
    if (!run || this.settling.has(run)) return;
    this.settling.add(run);
    const { clock, timing, log, store } = this.ctx;
    if (!(await endsWithin(this.ctx, run, timing.exitTimeoutMs)) && !this.closing) {
      // the connection broke, not the guest: a guest must not die for that, so take it up again
      const monitor = await this.reconnect(run).catch(() => null);
      if (monitor?.greeting.uuid === dom.uuid && dom.run === run && !this.closing) {
        log.warn(`domain '${dom.name}': its monitor connection broke; connected again`);
        run.monitor = monitor;
        this.settling.delete(run);
        this.follow(dom, monitor);
        return;
      }
      monitor?.close();
      log.error(`domain '${dom.name}': process ${run.pid} lives on but its monitor does not answer; killing it`);
      signalProcess(run.pid, run.startTime, 'SIGKILL');
      dom.stopping ??= 'failed';
    }
    // A saving guest writes its reply, then exits: the process can be seen gone (liveness poll) before that reply
    // is read from the monitor socket. Let the monitor drain first, so a finished save is not taken for a crash.
    const monitor = run.monitor;
    if (dom.job && monitor && !monitor.closed) {
      await settlesWithin(clock, timing.drainTimeoutMs, (signal) => once(monitor, 'close', { signal }));
      await nextTurn(); // the save call's continuation runs first
    }
    if (dom.run !== run || this.closing) return;
    run.monitor?.close();
    // a save ends with POWEROFF 'saved'; a daemon that connected after that event, before the exit, sees only the
    // image (which appears, renamed into place, once complete)
    if (dom.stopping === null && dom.job && store.hasManagedSave(dom.name)) dom.stopping = 'saved';
    const restart = this.restarts.get(run);
    if (restart === 'reset') return; // reset() starts it again itself
    if (restart === 'reboot' && dom.stopping === 'shutdown') {
      // on the domain's queue, as a start is: calls queued meanwhile (a reset, a suspend) find the new guest
      void dom.queue(() => this.restart(dom, run, restart));
      return;
    }
    this.settle(dom, dom.stopping ?? 'failed', true);
  }

  /**
   * Reboot: the guest is asked to power down (the power button) and, once it has, started again with the same id.
   * Returns once asked, as libvirt's reboot does. A guest that ignores the button is not rebooted.
   */
  async reboot(dom: Dom): Promise<void> {
    const run = runningOf(dom);
    if (this.restarts.has(run)) return; // being rebooted or reset already
    noJob(dom);
    this.restarts.set(run, 'reboot');
    const reply = await monitorOf(dom)
      .call('system_powerdown')
      .catch((err: unknown) => {
        this.restarts.delete(run);
        throw operationFailed(`cannot reboot domain '${dom.name}': ${(err as Error).message}`, err);
      });
    if (!reply.honored) this.restarts.delete(run);
  }

  /**
   * Reset: the guest process is killed at once (no shutdown) and started again with the same id; returns when it runs.
   * Called on the domain's queue. A reboot under way becomes this reset.
   */
  async reset(dom: Dom): Promise<void> {
    const run = runningOf(dom);
    noJob(dom);
    this.restarts.set(run, 'reset');
    signalProcess(run.pid, run.startTime, 'SIGKILL');
    if (!(await endsWithin(this.ctx, run, this.ctx.timing.killTimeoutMs)))
      throw operationFailed(`domain '${dom.name}': process ${run.pid} did not die`);
    if (dom.run !== run) return; // settled meanwhile
    await this.restart(dom, run, 'reset');
    if (!dom.run) throw operationFailed(`domain '${dom.name}' did not start again after its reset`);
  }

  /** the guest process of a reboot or reset has ended: a new one takes its place, with the same id and definition */
  private async restart(dom: Dom, run: Running, kind: RestartKind): Promise<void> {
    const { events, log } = this.ctx;
    if (dom.run !== run || this.closing) return; // a reset came first, or the daemon is going
    if (dom.stopping === 'destroyed') {
      this.settle(dom, 'destroyed', true); // a destroy came in meanwhile: it wins
      return;
    }
    // a reset keeps a paused guest paused, as QEMU's system_reset does
    const wasPaused = dom.state === 'paused';
    run.monitor?.close();
    this.removeFilesOf(dom, run);
    try {
      await this.spawn(dom, definitionOf(dom), { id: dom.id, paused: wasPaused });
      events.emitReboot(eventRef(dom));
      log.info(`domain '${dom.name}' restarted (${kind}): process ${dom.run?.pid}`);
    } catch (err) {
      log.error(`domain '${dom.name}': cannot start it again after its ${kind}: ${(err as Error).message}`);
      if (dom.run === run) this.settle(dom, 'failed', true);
    } finally {
      run.markExited();
    }
  }

  /** pause a running guest (libvirt's suspend): its memory and clock stand still */
  async suspend(dom: Dom): Promise<void> {
    runningOf(dom);
    if (dom.state === 'paused') return; // libvirt: suspending a paused guest does nothing
    await this.setPaused(dom, true);
  }

  /** resume a paused guest where it was */
  async resume(dom: Dom): Promise<void> {
    runningOf(dom);
    if (dom.state !== 'paused') throw operationInvalid('domain is already running');
    if (dom.reason === PAUSED.MIGRATION) {
      // the source of a migration, paused for the last pass: the guest may run at the destination by now; it runs on
      // here only when the migration is cancelled (confirm), a resume here would leave it running on both hosts
      if (dom.job?.kind === 'migration out')
        throw operationInvalid(`domain '${dom.name}' is paused by its migration; it resumes here only if the migration is cancelled`);
      if (dom.job?.kind === 'migration in')
        throw operationInvalid(`domain '${dom.name}' is being migrated in; it runs here once the migration finishes`);
      // a migration whose daemon died before its confirm: the client asking has decided (libvirt's recovery leaves
      // it to a third party) that it continues here; the runtime leaves its migration's pause, then any suspend
      await monitorOf(dom)
        .call('migrate-finish', { commit: false })
        .catch((err: unknown) => {
          throw operationFailed(`cannot resume domain '${dom.name}' after its migration: ${(err as Error).message}`, err);
        });
      this.ctx.log.info(`domain '${dom.name}': its unconfirmed migration is given up; it continues here`);
    }
    await this.setPaused(dom, false);
  }

  private async setPaused(dom: Dom, paused: boolean): Promise<void> {
    await monitorOf(dom)
      .call(paused ? 'stop' : 'cont')
      .catch((err: unknown) => {
        throw operationFailed(`cannot ${paused ? 'suspend' : 'resume'} domain '${dom.name}': ${(err as Error).message}`, err);
      });
    dom.state = paused ? 'paused' : 'running';
    dom.reason = paused ? PAUSED.USER : RUNNING.UNPAUSED;
    await this.writeStatus(dom);
    if (paused) this.ctx.events.emit(eventRef(dom), EVENT.SUSPENDED, SUSPENDED.PAUSED);
    else this.ctx.events.emit(eventRef(dom), EVENT.RESUMED, RESUMED_UNPAUSED);
  }

  /** the guest has ended: its files go, the domain is shut off with the reason (a transient one leaves the table) */
  settle(dom: Dom, why: PowerOffReason, notify: boolean): void {
    const run = dom.run;
    if (!run) return;
    const { store, events, table, log } = this.ctx;
    const [reason, detail] = STOP_REASONS[why];
    const ref = eventRef(dom); // stopped events carry the id the guest had
    if (notify && why === 'shutdown') events.emit(ref, EVENT.SHUTDOWN, SHUTDOWN_FINISHED);
    store.removeStatus(dom.name);
    this.removeFilesOf(dom, run);
    dom.run = null;
    dom.live = null;
    dom.job = null;
    dom.state = 'shutoff';
    dom.reason = reason;
    dom.stopping = null;
    dom.id = -1;
    if (notify) events.emit(ref, EVENT.STOPPED, detail);
    if (!dom.config) table.remove(dom);
    log.info(`domain '${dom.name}' stopped (${why})`);
    run.markExited();
  }

  /** what the ended guest process `run` leaves: its monitor socket, a partial save image (its writer is gone) */
  private removeFilesOf(dom: Dom, run: Running): void {
    this.ctx.store.removeFile(run.monitorPath);
    this.ctx.store.removeFile(this.ctx.store.partialImagePath(dom.name, run.pid));
  }

  private attach(dom: Dom, monitor: MonitorClient): void {
    monitor.on('event', (name, data) => {
      if (name === 'POWEROFF') dom.stopping ??= (data as { reason: PowerOffReason }).reason;
      else if (name === 'SAVE_PROGRESS' && dom.job) {
        const p = data as SaveProgress;
        dom.job.processed = p.processed;
        dom.job.total = p.total;
      } else if (name === 'SAVE_FAILED') dom.job = null;
    });
    monitor.on('close', () => {
      if (this.closing || dom.run?.monitor !== monitor) return;
      void this.ended(dom);
    });
  }
}
