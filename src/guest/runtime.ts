// One process guest: memory that changes while it runs, a clock, a monitor socket, boot/shutdown behaviour, and
// save (stream the state to an image, save-writer.ts, then exit) / restore (validate an image, continue from it).
import { unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { GuestClock, hostNowNs, type HostClock } from './clock.js';
import { readImage } from './image.js';
import { GuestMemory } from './memory.js';
import { MigrationAborted, sendMigration } from './migration-sender.js';
import { parseMigrationUri, type MigrationAddress } from './migration-stream.js';
import { MonitorError, MonitorServer } from './monitor-server.js';
import { newSaveJob, writeSaveImage, type SaveJob } from './save-writer.js';
import type {
  GuestBehavior,
  GuestStatus,
  MigrateReply,
  PowerOffReason,
  QuerySaveReply,
  SaveProgress,
  SaveReply,
  StateReply,
  StatusReply,
  TimeReply,
} from './protocol.js';

export interface RuntimeOptions {
  name: string;
  uuid: string;
  memoryBytes: number;
  monitorPath: string;
  behavior: GuestBehavior;
  restoreFile?: string;
  bypassCache?: boolean;
  /** come up paused (libvirt's start --paused), whatever the image says */
  startPaused?: boolean;
  tickMs?: number;
  chunkBytes?: number;
  host?: HostClock;
  log?: (msg: string) => void;
  /** how the process ends; replaced in tests */
  exit?: (code: number) => void;
}

export class GuestRuntime {
  status: GuestStatus = 'booting';
  private memory!: GuestMemory;
  private clock!: GuestClock;
  private restoredFrom: StateReply['restoredFrom'] = null;
  private monitor!: MonitorServer;
  private ticker: NodeJS.Timeout | null = null;
  private save: SaveJob | null = null;
  private migration: { startedAt: number; sent: number; total: number; aborted: boolean } | null = null;
  private shutdownPending = false;
  /** paused (virsh suspend): its memory and clock stand still until resumed */
  private paused = false;
  /** what came due while the guest was paused (the end of its boot, of its shutdown), done on resume */
  private deferred: (() => void)[] = [];
  private readonly log: (msg: string) => void;
  private readonly host: HostClock;

  constructor(private readonly opts: RuntimeOptions) {
    this.log = opts.log ?? ((m) => writeLog(`${opts.name}: ${m}`));
    this.host = opts.host ?? hostNowNs;
  }

  /** Load state (fresh or from an image) and open the monitor. Throws ImageError for a bad image. */
  async start(): Promise<void> {
    const { behavior } = this.opts;
    if (this.opts.restoreFile) {
      const img = await readImage(this.opts.restoreFile, {
        uuid: this.opts.uuid,
        memoryBytes: this.opts.memoryBytes,
        bypassCache: this.opts.bypassCache ?? false,
        ...(this.opts.chunkBytes ? { chunkBytes: this.opts.chunkBytes } : {}),
      });
      // saved while suspended (or started paused): it comes back standing still, as it was, until resumed
      this.paused = img.facts.paused === true || this.opts.startPaused === true;
      this.memory = new GuestMemory(img.memory, img.facts.counter);
      this.clock = new GuestClock(this.host, BigInt(img.facts.guestTimeNs), behavior.driftPpm, this.paused);
      this.restoredFrom = { counter: img.facts.counter, checksum: img.payloadSha };
      this.log(
        `restored from ${this.opts.restoreFile} (counter ${img.facts.counter}, ${img.direct ? 'O_DIRECT' : 'buffered'} read` +
          `${this.paused ? ', paused' : ''})`,
      );
    } else {
      this.paused = this.opts.startPaused === true;
      this.memory = GuestMemory.fresh(this.opts.memoryBytes);
      this.clock = new GuestClock(this.host, this.host(), behavior.driftPpm, this.paused);
      this.log(`booting with ${this.opts.memoryBytes} bytes of memory${this.paused ? ', paused' : ''}`);
    }
    this.monitor = new MonitorServer(
      this.opts.monitorPath,
      () => ({
        greeting: {
          name: this.opts.name,
          uuid: this.opts.uuid,
          pid: process.pid,
          status: this.status,
          restored: this.restoredFrom !== null,
          paused: this.paused,
          save: this.saveProgress(),
        },
      }),
      (cmd, args) => this.dispatch(cmd, args),
      this.log,
    );
    await this.monitor.listen();
    this.resumeTicks();
    if (this.restoredFrom || behavior.bootSeconds === 0) this.booted();
    else setTimeout(() => this.whenRunning(() => this.booted()), behavior.bootSeconds * 1000);
  }

  private booted(): void {
    if (this.status !== 'booting') return;
    this.status = 'running';
    void this.monitor.broadcast('BOOTED', {});
    if (this.shutdownPending) this.requestShutdown();
  }

  private resumeTicks(): void {
    if (this.ticker || this.paused) return;
    this.ticker = setInterval(() => this.memory.tick(), this.opts.tickMs ?? 100);
  }
  private pauseTicks(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private async dispatch(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    switch (cmd) {
      case 'query-status':
        return {
          status: this.status,
          name: this.opts.name,
          uuid: this.opts.uuid,
          pid: process.pid,
          counter: this.memory.counter,
          restored: this.restoredFrom !== null,
          paused: this.paused,
        } satisfies StatusReply;
      case 'query-state':
        return {
          counter: this.memory.counter,
          checksum: this.memory.checksum(),
          memoryBytes: this.memory.bytes.length,
          guestTimeNs: this.clock.now().toString(),
          restoredFrom: this.restoredFrom,
        } satisfies StateReply;
      case 'system_powerdown':
        return this.requestShutdown();
      case 'stop':
        return this.pause();
      case 'cont':
        return this.resume();
      case 'quit':
        setImmediate(() => void this.powerOff('destroyed'));
        return {};
      case 'save':
        return this.saveTo(String(args.file ?? ''), args.bypassCache === true, typeof args.paused === 'boolean' ? args.paused : null);
      case 'save-cancel':
        if (!this.save) throw new MonitorError('NoJob', 'no save in progress');
        this.save.aborted = true;
        return {};
      case 'query-save': {
        const progress = this.saveProgress();
        return { active: progress !== null, ...(progress ?? { processed: 0, total: 0, elapsedMs: 0 }) } satisfies QuerySaveReply;
      }
      case 'migrate':
        return this.migrateTo(String(args.uri ?? ''), String(args.token ?? ''), args.live === true);
      case 'migrate-cancel':
        if (!this.migration) throw new MonitorError('NoJob', 'no migration in progress');
        this.migration.aborted = true;
        return {};
      case 'migrate-finish':
        return this.finishMigration(args.commit === true);
      case 'guest-get-time':
        this.requireAgent();
        return { timeNs: this.clock.now().toString() } satisfies TimeReply;
      case 'guest-set-time': {
        this.requireAgent();
        const raw = args.timeNs;
        let target: bigint;
        try {
          target = raw === undefined || raw === null ? this.host() : BigInt(String(raw));
        } catch {
          throw new MonitorError('InvalidArgument', `timeNs '${String(raw)}' is not an integer`);
        }
        if (target < 0n) throw new MonitorError('InvalidArgument', 'time before the epoch');
        this.clock.set(target);
        return { timeNs: this.clock.now().toString() } satisfies TimeReply;
      }
      default:
        throw new MonitorError('CommandNotFound', `unknown command '${cmd}'`);
    }
  }

  private saveProgress(): SaveProgress | null {
    const s = this.save;
    return s && { processed: s.processed, total: s.total, elapsedMs: Date.now() - s.startedAt };
  }

  /** stop the guest's work where it is: no more ticks, the clock frozen; a save under way goes on */
  private pause(): Record<string, never> {
    if (this.paused) return {};
    this.paused = true;
    this.pauseTicks();
    this.clock.freeze();
    this.log('paused');
    return {};
  }

  private resume(): Record<string, never> {
    if (!this.paused) return {};
    this.paused = false;
    // a save holds the guest still until it ends; so does a migration's last pass until it is finished
    if (this.status !== 'saving' && this.status !== 'paused') {
      this.clock.thaw();
      this.resumeTicks();
    }
    this.log('resumed');
    for (const work of this.deferred.splice(0)) work();
    return {};
  }

  /** after a save or a migration paused the guest: it runs on, unless a client suspended it meanwhile */
  private continueUnlessSuspended(): void {
    if (this.paused) return;
    this.clock.thaw();
    this.resumeTicks();
  }

  /** run `work` now, or once the guest is resumed */
  private whenRunning(work: () => void): void {
    if (this.paused) this.deferred.push(work);
    else work();
  }

  private requireAgent(): void {
    if (!this.opts.behavior.agent) throw new MonitorError('AgentNotConfigured', 'the guest has no agent');
    if (this.paused) throw new MonitorError('AgentUnavailable', 'the guest agent is not up (paused)');
    if (this.status !== 'running') throw new MonitorError('AgentUnavailable', `the guest agent is not up (${this.status})`);
  }

  private requestShutdown(): { accepted: boolean; honored: boolean } {
    const honored = this.opts.behavior.honorShutdown;
    void this.monitor.broadcast('SHUTDOWN_REQUESTED', { honored });
    if (!honored) {
      this.log('shutdown requested: ignored (honor-shutdown="no")');
      return { accepted: true, honored };
    }
    if (this.status === 'booting' || this.paused) {
      // the power button is seen once the guest is up and running
      if (this.paused) this.deferred.push(() => this.requestShutdown());
      else this.shutdownPending = true;
      return { accepted: true, honored };
    }
    if (this.status === 'running') {
      this.status = 'shutting-down';
      this.log(`shutdown requested: powering off in ${this.opts.behavior.shutdownSeconds}s`);
      setTimeout(() => this.whenRunning(() => void this.powerOff('shutdown')), this.opts.behavior.shutdownSeconds * 1000);
    }
    return { accepted: true, honored };
  }

  /** `restorePaused`: how the restore leaves the guest; null: as it is now (suspended or not), the save's own pause aside */
  private async saveTo(file: string, bypassCache: boolean, restorePaused: boolean | null): Promise<SaveReply> {
    if (!file) throw new MonitorError('InvalidArgument', 'save needs a file');
    if (this.save) throw new MonitorError('Busy', 'a save is already in progress');
    if (this.status === 'shutting-down') throw new MonitorError('Busy', 'the guest is shutting down');
    if (this.status === 'migrating' || this.status === 'paused') throw new MonitorError('Busy', 'the guest is migrating');
    const paused = restorePaused ?? this.paused;
    const previous = this.status;
    this.status = 'saving';
    this.pauseTicks();
    const guestTimeNs = this.clock.freeze();
    const job = newSaveJob(file, this.memory.bytes.length);
    this.save = job;
    try {
      const written = await writeSaveImage(job, {
        file,
        bypassCache,
        chunkBytes: this.opts.chunkBytes ?? 1 << 20,
        mibPerSecond: this.opts.behavior.saveMiBps,
        name: this.opts.name,
        uuid: this.opts.uuid,
        memory: this.memory,
        guestTimeNs,
        paused,
        onProgress: (progress) => void this.monitor.broadcast('SAVE_PROGRESS', progress),
      });
      const reply: SaveReply = {
        file,
        bytes: job.total,
        method: written.method,
        counter: this.memory.counter,
        checksum: written.checksum,
        guestTimeNs: guestTimeNs.toString(),
        paused,
      };
      this.log(
        `saved to ${file}: ${job.total} bytes in ${Date.now() - job.startedAt} ms (${reply.method}), to restore ${paused ? 'paused' : 'running'}`,
      );
      void this.monitor.broadcast('SAVE_PROGRESS', {
        processed: job.total,
        total: job.total,
        elapsedMs: Date.now() - job.startedAt,
      });
      // the guest is gone once its state is on disk; exit after the reply is written
      setImmediate(() => void this.powerOff('saved'));
      return reply;
    } catch (err) {
      this.save = null;
      this.status = previous === 'saving' ? 'running' : previous;
      this.continueUnlessSuspended();
      const failure =
        err instanceof MonitorError ? err : new MonitorError('GenericError', `save to ${file} failed: ${(err as Error).message}`);
      this.log(
        err instanceof MonitorError
          ? `save aborted after ${job.processed} of ${job.total} bytes; guest continues`
          : `save failed: ${(err as Error).message}; guest continues`,
      );
      // a daemon that connected mid-save (no reply coming to it) learns here that the job is over
      void this.monitor.broadcast('SAVE_FAILED', { desc: failure.message });
      throw failure;
    }
  }

  private async migrateTo(uri: string, token: string, live: boolean): Promise<MigrateReply> {
    let address: MigrationAddress;
    try {
      address = parseMigrationUri(uri);
    } catch (err) {
      throw new MonitorError('InvalidArgument', (err as Error).message);
    }
    if (this.status !== 'running') throw new MonitorError('Busy', `the guest is ${this.status}, not running`);
    const memoryBytes = this.memory.bytes.length;
    const job = { startedAt: Date.now(), sent: 0, total: memoryBytes, aborted: false };
    this.migration = job;
    this.status = 'migrating';
    let paused = false;
    let lastReport = 0;
    try {
      const result = await sendMigration({
        address,
        hello: { token, uuid: this.opts.uuid, name: this.opts.name, memoryBytes },
        memory: this.memory,
        live,
        mibPerSecond: this.opts.behavior.saveMiBps,
        pause: () => {
          paused = true;
          this.status = 'paused';
          this.pauseTicks();
          return { guestTimeNs: this.clock.freeze().toString() };
        },
        aborted: () => job.aborted,
        onProgress: (sent, remaining) => {
          job.sent = sent;
          job.total = Math.max(job.total, sent + remaining);
          const now = Date.now();
          if (now - lastReport < 50) return;
          lastReport = now;
          void this.monitor.broadcast('MIGRATE_PROGRESS', { processed: sent, total: job.total, elapsedMs: now - job.startedAt });
        },
      });
      this.log(
        `migrated to ${uri}: ${result.bytes} bytes in ${result.passes} live passes, ${Date.now() - job.startedAt} ms; ` +
          `paused ${Date.now() - result.pausedAt} ms so far`,
      );
      return {
        bytes: result.bytes,
        passes: result.passes,
        pausedMs: Date.now() - result.pausedAt,
        counter: result.facts.counter,
        checksum: result.facts.checksum,
      };
    } catch (err) {
      this.status = 'running';
      if (paused) this.continueUnlessSuspended();
      this.log(`migration to ${uri} failed: ${(err as Error).message}; guest continues`);
      if (err instanceof MigrationAborted) throw new MonitorError('Aborted', 'migration cancelled');
      throw new MonitorError('GenericError', `migration to ${uri} failed: ${(err as Error).message}`);
    } finally {
      this.migration = null;
    }
  }

  private finishMigration(commit: boolean): { paused: boolean } {
    if (this.status !== 'paused') throw new MonitorError('NoJob', `no migration to finish (the guest is ${this.status})`);
    if (commit) {
      setImmediate(() => void this.powerOff('migrated'));
      return { paused: true };
    }
    this.status = 'running';
    this.continueUnlessSuspended();
    this.log(`migration cancelled by the destination; guest ${this.paused ? 'stays suspended' : 'continues'}`);
    return { paused: this.paused };
  }

  /** tell the monitors why, then exit */
  async powerOff(reason: PowerOffReason): Promise<void> {
    this.pauseTicks();
    await Promise.race([this.monitor.broadcast('POWEROFF', { reason }), sleep(500)]);
    this.log(`powered off (${reason})`);
    this.monitor.closeSync();
    (this.opts.exit ?? process.exit)(0);
  }

  /** SIGTERM/SIGINT: the host pulls the plug (virsh destroy); never leave a partial image behind */
  onTerminate(): void {
    if (this.save) {
      try {
        unlinkSync(this.save.tmp);
      } catch {
        /* not created yet */
      }
    }
    void this.powerOff('destroyed');
  }
}

/** one line on stderr, the guest's log file: a log that cannot be written (disk full) must not end the guest */
export function writeLog(line: string): void {
  try {
    writeSync(2, `${new Date().toISOString()} ${line}\n`);
  } catch {
    /* nowhere left to say it */
  }
}
