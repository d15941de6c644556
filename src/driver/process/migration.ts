// Migration of process guests, libvirt's version 3 protocol (DriverMigration). The source's guest runtime sends its
// memory (live: while it runs, then the last dirty pages paused) to a stream the destination listens on; the
// destination makes a save image of it and restores the guest from that image, which checks every byte against the
// checksum the source computed at the pause. Phases:
//   source  begin    the domain gets a migration job; its definition and a cookie go to the destination
//   dest    prepare  listen for the stream (a socket in the run dir, or TCP when given an address); cookie: the token;
//                    the runtime starts, waiting, and restores PAUSED (migrating) once the stream is complete
//   source  perform  the runtime sends; the guest is left paused
//   dest    finish   the restored guest is resumed: it runs here (defined persistently with PERSIST_DEST)
//   source  confirm  the guest ends here (undefined with UNDEFINE_SOURCE), or resumes when the migration failed
// Until finish the guest runs nowhere: a destination whose finish never comes (the source daemon, or the client that
// drove the steps, died) ends its copy when the connection that prepared it closes (abandon, libvirt's close
// callback), and the source's paused copy is the only one.
import type { DomainRecord, DriverMigrateFlags, DriverMigration, PreparedIncoming } from '../driver.js';
import type { MigrationAddress } from '../../guest/migration-stream.js';
import { parseMigrationUri } from '../../guest/migration-stream.js';
import { imageSize } from '../../guest/image.js';
import { DEFINED, EVENT, PAUSED, RESUMED_MIGRATED, RUNNING, STARTED } from './constants.js';
import type { DriverContext } from './context.js';
import { definitionOf, monitorOf, noJob, runningOf, type Dom, type Job } from './domain-table.js';
import { operationAborted, operationFailed, operationInvalid } from './errors.js';
import { eventRef } from './events.js';
import type { GuestProcesses } from './guest-process.js';
import { IncomingStream } from './migration-receiver.js';
import { MonitorCommandError } from './monitor-client.js';
import { formatDomainXML, parseDomainXML, type DomainDef } from './xml/domain.js';

/** what the cookies carry between the two drivers */
interface Cookie {
  uuid: string;
  name: string;
  /** the destination's one-time token for the stream (prepare → perform) */
  token?: string;
}

const encodeCookie = (c: Cookie): Buffer => Buffer.from(JSON.stringify({ guestd: 1, ...c }), 'utf8');
function decodeCookie(buf: Buffer): Cookie {
  try {
    const c = JSON.parse(buf.toString('utf8')) as Partial<Cookie> & { guestd?: number };
    if (c.guestd === 1 && typeof c.uuid === 'string' && typeof c.name === 'string') return c as Cookie;
  } catch {
    /* below */
  }
  throw operationFailed('the migration cookie is not one of guestd (both ends of a migration must be guestd)');
}

interface Incoming {
  def: DomainDef;
  stream: IncomingStream;
  /** the domain the guest arrives in (made for it, unless it was defined here already) */
  dom: Dom;
  made: boolean;
  /** the runtime started at prepare, waiting for the image: resolves once the guest is restored from it, paused */
  restored: Promise<void>;
  /** finish has begun: the connection that prepared the migration may close now */
  finishing: boolean;
  cancelled?: Promise<void>;
}

/** the job of this daemon's migration out (BEGIN3 made it; a domain's job may be a save's, which is left alone) */
const isOutgoing = (job: Job | null): job is Job => job?.kind === 'migration out';
const isIncoming = (job: Job | null): job is Job => job?.kind === 'migration in';

export class Migrations implements DriverMigration {
  private readonly incoming = new Map<string, Incoming>();

  constructor(
    private readonly ctx: DriverContext,
    private readonly processes: GuestProcesses,
    /** the driver's undefine (UNDEFINE_SOURCE) */
    private readonly undefine: (uuid: string) => Promise<void>,
  ) {}

  // ---- source

  async begin(uuid: string, _flags: DriverMigrateFlags): Promise<{ xml: string; cookie: Buffer }> {
    const { table, clock } = this.ctx;
    const dom = table.byUuid(uuid);
    return dom.queue(async () => {
      runningOf(dom);
      noJob(dom);
      if (dom.state !== 'running') throw operationInvalid(`domain '${dom.name}' is ${dom.state}, not running`);
      const def = definitionOf(dom);
      dom.job = { kind: 'migration out', startedAt: clock.now(), processed: 0, total: imageSize(def.memoryKiB * 1024) };
      return { xml: formatDomainXML(def), cookie: encodeCookie({ uuid: dom.uuid, name: dom.name }) };
    });
  }

  async perform(uuid: string, uri: string, cookie: Buffer, flags: DriverMigrateFlags): Promise<{ cookie: Buffer; pausedAt: number }> {
    const { table, log } = this.ctx;
    const dom = table.byUuid(uuid);
    const { token } = decodeCookie(cookie);
    if (!token) throw operationFailed('the migration cookie carries no token from the destination (prepare first)');
    const run = runningOf(dom);
    const monitor = monitorOf(dom);
    const job = dom.job;
    if (!isOutgoing(job)) throw operationInvalid(`domain '${dom.name}' has no migration job (begin first)`);
    const progress = (name: string, data: unknown): void => {
      if (name !== 'MIGRATE_PROGRESS' || dom.job !== job) return;
      const p = data as { processed: number; total: number };
      job.processed = p.processed;
      job.total = p.total;
    };
    monitor.on('event', progress);
    try {
      const reply = await monitor.call('migrate', { uri, token, live: flags.live });
      job.processed = job.total = reply.bytes;
      dom.state = 'paused';
      dom.reason = PAUSED.MIGRATION;
      log.info(
        `domain '${dom.name}': sent ${reply.bytes} bytes to ${uri} (${reply.passes} live passes; ` +
          `paused at counter ${reply.counter}, memory sha256 ${reply.checksum})`,
      );
      return { cookie: encodeCookie({ uuid: dom.uuid, name: dom.name }), pausedAt: this.ctx.clock.now() - reply.pausedMs };
    } catch (err) {
      if (dom.job === job) dom.job = null;
      if (err instanceof MonitorCommandError && err.errorClass === 'Aborted')
        throw operationAborted("job 'migration out' canceled by client");
      if (dom.run !== run) throw operationFailed(`domain '${dom.name}' stopped during the migration`);
      throw operationFailed(`migration of domain '${dom.name}' failed: ${(err as Error).message}`, err);
    } finally {
      monitor.off('event', progress);
    }
  }

  async confirm(uuid: string, _cookie: Buffer, flags: DriverMigrateFlags, cancelled: boolean): Promise<void> {
    const { table, log } = this.ctx;
    const dom = table.byUuid(uuid);
    const run = dom.run;
    const ours = isOutgoing(dom.job);
    // paused by perform for this daemon's migration (not by a client's suspend, nor by a migration whose daemon died
    // before its confirm: nobody here knows how that one ended, a client resumes or destroys the guest)
    const migrating = run !== null && ours && dom.state === 'paused' && dom.reason === PAUSED.MIGRATION;
    if (cancelled) {
      if (ours) dom.job = null;
      if (migrating) {
        // it runs on, unless a client suspended it during the migration
        const { paused } = await monitorOf(dom).call('migrate-finish', { commit: false });
        dom.state = paused ? 'paused' : 'running';
        dom.reason = paused ? PAUSED.USER : RUNNING.MIGRATION_CANCELED;
      }
      log.info(`domain '${dom.name}': migration cancelled; it ${dom.state === 'paused' ? 'stays paused' : 'runs on'} here`);
      return;
    }
    // a confirm without a performed migration changes nothing (libvirt: OPERATION_INVALID)
    if (!migrating) throw operationInvalid(`domain '${dom.name}' is not being migrated by this daemon`);
    if (run) {
      dom.stopping = 'migrated';
      await monitorOf(dom).call('migrate-finish', { commit: true });
      await this.processes.endAfterSave(dom, run);
    }
    if (flags.undefineSource && dom.config) await this.undefine(dom.uuid);
    log.info(`domain '${dom.name}': migrated away`);
  }

  /** abort a migration under way (DOMAIN_ABORT_JOB); true when there was one */
  async abort(dom: Dom): Promise<boolean> {
    if (isIncoming(dom.job)) throw operationInvalid('cannot abort incoming migration; use virDomainDestroy instead');
    if (!isOutgoing(dom.job) || !dom.run?.monitor) return false;
    try {
      await dom.run.monitor.call('migrate-cancel');
      return true;
    } catch (err) {
      if (err instanceof MonitorCommandError && err.errorClass === 'NoJob') return false;
      throw err;
    }
  }

  // ---- destination

  async prepare(xml: string, cookie: Buffer, _flags: DriverMigrateFlags, address: string | null): Promise<PreparedIncoming> {
    const { table, store, log, clock, events } = this.ctx;
    decodeCookie(cookie); // the source is guestd
    const def = parseDomainXML(xml);
    return table.queue(async () => {
      table.checkConflicts(def);
      const existing = table.get(def.uuid);
      if (existing?.run) throw operationInvalid(`domain '${def.name}' is already active`);
      if (existing && store.hasManagedSave(def.name))
        throw operationInvalid(`domain '${def.name}' has a managed save image here; remove it before migrating the guest in`);
      if (this.incoming.has(def.uuid)) throw operationInvalid(`domain '${def.name}' is already being migrated in`);
      let listen: MigrationAddress;
      try {
        listen = address ? parseMigrationUri(address) : { path: store.incomingSocketPath(def.uuid) };
      } catch (err) {
        throw operationFailed(`cannot listen for the migration: ${(err as Error).message}`);
      }
      const file = store.incomingImagePath(def.name);
      const stream = await IncomingStream.listen(listen, file, {
        uuid: def.uuid,
        name: def.name,
        memoryBytes: def.memoryKiB * 1024,
      }).catch((err: unknown) => {
        throw operationFailed(`cannot listen for the migration of '${def.name}': ${(err as Error).message}`, err);
      });
      // the runtime starts now, while the memory travels: the guest's pause is then its restore and the finish only
      const dom = existing ?? table.create(null, def);
      if (!existing) {
        dom.live = def; // listed, shut off, until the guest runs here
        table.add(dom);
      }
      // restored paused, as libvirt's destination keeps it until Finish3: until then it runs at neither end
      const total = imageSize(def.memoryKiB * 1024); // all of it is here once the guest is restored
      const job: Job = { kind: 'migration in', startedAt: clock.now(), processed: total, total };
      const restored = dom.queue(async () => {
        await this.processes.spawn(dom, def, { restoreFile: stream.file, awaitRestore: true, paused: true, job });
        dom.state = 'paused';
        dom.reason = PAUSED.MIGRATION;
        await this.processes.writeStatus(dom);
        events.emit(eventRef(dom), EVENT.STARTED, STARTED.MIGRATED);
      });
      const incoming: Incoming = { def, stream, dom, made: !existing, restored, finishing: false };
      this.incoming.set(def.uuid, incoming);
      // a stream that fails, or a runtime that ends without the guest (cancelled, timed out): nothing is left of it
      stream.done.catch(() => this.cancel(incoming));
      restored.catch(() => this.forget(incoming));
      log.info(`domain '${def.name}': waiting for its migration at ${stream.uri}`);
      return {
        cookie: encodeCookie({ uuid: def.uuid, name: def.name, token: stream.token }),
        uri: stream.uri,
        uuid: def.uuid,
        abandon: () => (incoming.finishing ? Promise.resolve() : this.cancel(incoming)),
      };
    });
  }

  async finish(cookie: Buffer, flags: DriverMigrateFlags, cancelled: boolean): Promise<{ domain: DomainRecord; cookie: Buffer }> {
    const { table, store, events, log } = this.ctx;
    const { uuid, name } = decodeCookie(cookie);
    const incoming = this.incoming.get(uuid);
    // one whose client went (abandon) is being ended
    if (!incoming || incoming.cancelled) throw operationInvalid(`no migration of domain '${name}' is prepared here`);
    const { def, stream, dom } = incoming;
    incoming.finishing = true;
    if (cancelled) {
      await this.cancel(incoming);
      throw operationFailed(`the migration of domain '${name}' was cancelled by the source`);
    }
    try {
      await stream.done;
    } catch (err) {
      await this.cancel(incoming);
      throw operationFailed(`the migration stream of domain '${name}' failed: ${(err as Error).message}`, err);
    }
    try {
      await incoming.restored;
    } catch (err) {
      throw operationFailed(`cannot start domain '${def.name}' from its migrated state: ${(err as Error).message}`, err);
    } finally {
      this.incoming.delete(uuid);
      store.removeIncoming(stream.file);
    }
    return dom.queue(async () => {
      // destroyed meanwhile (libvirt: the guest is not running on the destination host)
      if (!dom.run || !isIncoming(dom.job)) throw operationFailed(`domain '${name}' is not running on the destination host`);
      dom.job = null;
      await monitorOf(dom)
        .call('cont')
        .catch(async (err: unknown) => {
          await this.processes.destroy(dom, { graceful: false }, 'failed');
          throw operationFailed(`cannot resume domain '${name}' after its migration: ${(err as Error).message}`, err);
        });
      dom.state = 'running';
      dom.reason = RUNNING.MIGRATED;
      events.emit(eventRef(dom), EVENT.RESUMED, RESUMED_MIGRATED);
      if (flags.persistDest) {
        const wasPersistent = dom.config !== null;
        await store.writeConfig(def.name, formatDomainXML(def), def);
        dom.config = def;
        events.emit(eventRef(dom), EVENT.DEFINED, wasPersistent ? DEFINED.UPDATED : DEFINED.ADDED);
      }
      await this.processes.writeStatus(dom);
      log.info(`domain '${def.name}': migrated in, running (${dom.config ? 'persistent' : 'transient'})`);
      return { domain: table.record(dom), cookie: encodeCookie({ uuid: dom.uuid, name: dom.name }) };
    });
  }

  /** the migration in will not be finished: the runtime (waiting, or restored paused) ends, the image and the domain made for it go */
  private cancel(incoming: Incoming): Promise<void> {
    incoming.cancelled ??= this.cancelNow(incoming);
    return incoming.cancelled;
  }

  private async cancelNow(incoming: Incoming): Promise<void> {
    const { stream, dom } = incoming;
    const { store, log } = this.ctx;
    store.markIncomingCancelled(stream.file);
    await stream.close();
    await incoming.restored.catch(() => undefined);
    store.removeIncoming(stream.file);
    await dom.queue(async () => {
      if (!dom.run || !isIncoming(dom.job)) return;
      // restored already, paused: as libvirt's destination does, the incoming guest is killed (shut off, failed)
      await this.processes.destroy(dom, { graceful: false }, 'failed');
      log.info(`domain '${dom.name}': its migration here was not finished; the incoming guest is ended`);
    });
    this.forget(incoming);
  }

  private forget(incoming: Incoming): void {
    if (this.incoming.get(incoming.def.uuid) === incoming) this.incoming.delete(incoming.def.uuid);
    if (incoming.made && !incoming.dom.run && !incoming.dom.config) this.ctx.table.remove(incoming.dom);
  }

  /** drop every prepared migration (the daemon stops) */
  async close(): Promise<void> {
    await Promise.all([...this.incoming.values()].map((i) => this.cancel(i)));
  }
}
