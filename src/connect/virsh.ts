// The virsh backend of Connection: one `virsh -q [-c URI] [-r] COMMAND …` process per call, for transports the
// native client does not speak (ssh, SASL, client-side drivers). Guests are always named by UUID on the command
// line: virsh would otherwise try a numeric name as an id first.
import type { DomainState } from '../libvirt/domain-state.js';
import type { JobProgress } from '../libvirt/job.js';
import type {
  Connection,
  GuestInfo,
  GuestRef,
  LifecycleEvent,
  ListFilter,
  ManagedSaveOptions,
  MigrateOptions,
  StartOptions,
} from './connection.js';
import { isVirError, LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import { virshError } from './virsh-error.js';
import {
  nonEmptyLines,
  parseDominfo,
  parseDomstate,
  parseDomtime,
  parseJobInfo,
  parseListTable,
  parseLifecycleLine,
  parseUuidIdNameList,
  type DomInfo,
  type VirshLifecycleLine,
} from './virsh-output.js';
import { execaVirshRunner, type VirshChild, type VirshResult, type VirshRunner } from './virsh-process.js';

export interface VirshOptions {
  readonly?: boolean;
  runner?: VirshRunner;
  /** skip the `virsh uri` round trip that checks the connection at open */
  lazy?: boolean;
  /** how long to wait for `virsh event` to report its registration before assuming it is live (ms) */
  eventReadyTimeoutMs?: number;
}

/** Open a virsh-backed connection; unless `lazy`, checks that virsh can connect (`virsh uri`). */
export async function openVirsh(uri: string, options: VirshOptions = {}): Promise<VirshConnection> {
  const conn = new VirshConnection(uri, options);
  if (!options.lazy) await conn.check();
  return conn;
}

// virsh logs each RPC reply at level 2 (info) for module rpc.netclient; the reply to the event registration
// (316 CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, or 105 on old daemons) says the subscription is live.
const EVENT_LOG_ENV = { LIBVIRT_LOG_OUTPUTS: '2:stderr', LIBVIRT_LOG_FILTERS: '2:rpc.netclient' };
const EVENT_REGISTERED = /RPC_CLIENT_MSG_RX: .* proc=(316|105) type=1 status=0/;

export class VirshConnection implements Connection {
  readonly backend = 'virsh' as const;
  readonly uri: string;
  private readonly runner: VirshRunner;
  private readonly base: string[];
  private readonly eventReadyTimeoutMs: number;
  /** name → uuid, so that events (which carry only the name) can name an undefined guest */
  private readonly uuidByName = new Map<string, string>();
  private readonly children = new Set<VirshChild>();

  constructor(uri: string, options: VirshOptions = {}) {
    this.uri = uri;
    this.runner = options.runner ?? execaVirshRunner();
    // `default` leaves the choice to virsh, which follows the same rules as resolve.ts
    this.base = ['-q', ...(uri === 'default' ? [] : ['-c', uri]), ...(options.readonly ? ['-r'] : [])];
    this.eventReadyTimeoutMs = options.eventReadyTimeoutMs ?? 3000;
  }

  async check(): Promise<void> {
    await this.virsh('uri');
  }

  async listGuests(filter: ListFilter = {}): Promise<GuestInfo[]> {
    const which = filter.which ?? 'active';
    const flags = which === 'all' ? ['--all'] : which === 'inactive' ? ['--inactive'] : [];
    if (filter.persistence) flags.push(`--${filter.persistence}`);
    const [idsOut, tableOut, persistentOut] = await Promise.all([
      this.virsh('list', ...flags, '--uuid', '--id', '--name'),
      this.virsh('list', ...flags),
      filter.persistence ? Promise.resolve(null) : this.virsh('list', ...flags, '--persistent', '--uuid'),
    ]);
    const states = new Map(parseListTable(tableOut).map((row) => [row.name, row.state]));
    const persistent = persistentOut === null ? null : new Set(nonEmptyLines(persistentOut).map((u) => u.trim().toLowerCase()));
    const guests = parseUuidIdNameList(idsOut);
    return Promise.all(
      guests.map(async (g): Promise<GuestInfo> => {
        this.uuidByName.set(g.name, g.uuid);
        // a guest that changed between the two lists gets its own query
        const state: DomainState = states.get(g.name) ?? (await this.state(g)).state;
        return { ...g, state, persistent: persistent ? persistent.has(g.uuid) : filter.persistence === 'persistent' };
      }),
    );
  }

  async lookup(uuidOrName: string): Promise<GuestRef> {
    const info = await this.dominfo(uuidOrName);
    return { uuid: info.uuid, name: info.name, id: info.id };
  }

  async state(guest: GuestRef): Promise<{ state: DomainState; reason: number }> {
    return parseDomstate(await this.virsh('domstate', '--reason', '--domain', guest.uuid));
  }

  async isPersistent(guest: GuestRef): Promise<boolean> {
    return (await this.dominfo(guest.uuid)).persistent ?? false;
  }

  async hasManagedSave(guest: GuestRef): Promise<boolean> {
    return (await this.dominfo(guest.uuid)).managedSave ?? false;
  }

  async managedSave(guest: GuestRef, options: ManagedSaveOptions = {}): Promise<void> {
    const { onProgress, progressIntervalMs = 1000 } = options;
    const args = ['managedsave', ...(options.bypassCache ? ['--bypass-cache'] : []), '--domain', guest.uuid];
    // a save that won the race against an abort leaves the guest saved: success
    await this.abortableJob(guest, args, 'managed save', options.signal, (stop) =>
      onProgress ? this.pollProgress(guest, progressIntervalMs, stop, onProgress) : Promise.resolve(),
    );
  }

  /**
   * A virsh command that runs a job on the guest: aborting `signal` aborts the job (domjobabort until it lands), and
   * its failure then says so; `beside` runs alongside until the command ends (progress polls).
   */
  private async abortableJob(
    guest: GuestRef,
    args: string[],
    what: string,
    signal: AbortSignal | undefined,
    beside: (stop: Stopper) => Promise<void> = () => Promise.resolve(),
  ): Promise<void> {
    if (signal?.aborted) throw aborted(guest, undefined, what);
    const job = this.runner.run([...this.base, ...args]);
    const stop = stopper();
    let abortRequested = false;
    let aborter: Promise<void> = Promise.resolve();
    const onAbort = (): void => {
      abortRequested = true;
      aborter = this.abortUntilDone(guest, stop);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const alongside = beside(stop);
    let result: VirshResult;
    try {
      result = await job;
    } finally {
      stop.fire();
      signal?.removeEventListener('abort', onAbort);
      await Promise.all([alongside, aborter]);
    }
    if (result.exitCode === 0) return;
    const err = virshError(result.stderr, args[0]!, result.exitCode);
    if (abortRequested) throw aborted(guest, err, what);
    throw err;
  }

  /** `domjobabort` fails while the job has not started yet; retry until it lands or the save ends. */
  private async abortUntilDone(guest: GuestRef, stop: Stopper): Promise<void> {
    while (!stop.fired) {
      const r = await this.runner.run([...this.base, 'domjobabort', '--domain', guest.uuid]);
      if (r.exitCode === 0) return;
      await stop.sleep(50);
    }
  }

  /**
   * Poll `domjobinfo` every intervalMs without waiting for the previous poll (a virsh fork takes ~40 ms, a
   * fast save well under a second), at most 3 in flight; only answers newer than the last one delivered count.
   */
  private async pollProgress(guest: GuestRef, intervalMs: number, stop: Stopper, onProgress: (p: JobProgress) => void): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let started = 0;
    let delivered = -1;
    while (!stop.fired) {
      if (inFlight.size < 3) {
        const seq = started++;
        const poll: Promise<void> = this.runner
          .run([...this.base, 'domjobinfo', '--domain', guest.uuid])
          .then((r) => {
            if (stop.fired || r.exitCode !== 0 || seq < delivered) return;
            const progress = parseJobInfo(r.stdout);
            if (progress.type !== 'bounded' && progress.type !== 'unbounded') return;
            delivered = seq;
            onProgress(progress);
          })
          .catch(() => {}) // a failed poll is no reason to fail the save; the next one may succeed
          .finally(() => inFlight.delete(poll));
        inFlight.add(poll);
      }
      await stop.sleep(intervalMs);
    }
    await Promise.all(inFlight);
  }

  async jobInfo(guest: GuestRef): Promise<JobProgress> {
    return parseJobInfo(await this.virsh('domjobinfo', '--domain', guest.uuid));
  }

  async migrate(guest: GuestRef, destUri: string, options: MigrateOptions = {}): Promise<void> {
    const flags = [
      '--p2p',
      ...(options.live ? ['--live'] : []),
      ...(options.persistent ? ['--persistent'] : []),
      ...(options.undefineSource ? ['--undefinesource'] : []),
    ];
    await this.abortableJob(guest, ['migrate', ...flags, '--domain', guest.uuid, '--desturi', destUri], 'migration', options.signal);
  }

  async abortJob(guest: GuestRef): Promise<void> {
    await this.virsh('domjobabort', '--domain', guest.uuid);
  }

  async managedSaveRemove(guest: GuestRef): Promise<void> {
    await this.virsh('managedsave-remove', '--domain', guest.uuid);
  }

  async start(guest: GuestRef, options: StartOptions = {}): Promise<GuestRef> {
    const flags = [...(options.bypassCache ? ['--bypass-cache'] : []), ...(options.forceBoot ? ['--force-boot'] : [])];
    await this.virsh('start', ...flags, '--domain', guest.uuid);
    return this.lookup(guest.uuid);
  }

  async shutdown(guest: GuestRef): Promise<void> {
    await this.virsh('shutdown', '--domain', guest.uuid);
  }

  async destroy(guest: GuestRef): Promise<void> {
    await this.virsh('destroy', '--domain', guest.uuid);
  }

  async setTime(guest: GuestRef, time: { sync: true } | { seconds: number; nseconds: number }): Promise<void> {
    // virsh sets whole seconds only; nseconds is dropped
    const how = 'sync' in time ? ['--sync'] : ['--time', String(Math.trunc(time.seconds))];
    await this.virsh('domtime', ...how, '--domain', guest.uuid);
  }

  async getTime(guest: GuestRef): Promise<{ seconds: number; nseconds: number }> {
    return parseDomtime(await this.virsh('domtime', '--domain', guest.uuid));
  }

  async getMetadata(guest: GuestRef, uri: string): Promise<string | null> {
    try {
      const xml = await this.virsh('metadata', '--domain', guest.uuid, '--uri', uri);
      return xml.trim();
    } catch (err) {
      if (isVirError(err, VirErr.NO_DOMAIN_METADATA)) return null;
      throw err;
    }
  }

  async setMetadata(guest: GuestRef, uri: string, key: string, xml: string | null): Promise<void> {
    const change = xml === null ? ['--remove'] : ['--key', key, '--set', xml];
    const set = (...where: string[]) => this.virsh('metadata', '--domain', guest.uuid, '--uri', uri, ...change, ...where);
    try {
      await set('--live', '--config');
    } catch (err) {
      // not running, or transient: only one definition exists, the current one
      if (!isVirError(err, VirErr.OPERATION_INVALID)) throw err;
      await set();
    }
  }

  async onLifecycle(listener: (event: LifecycleEvent) => void): Promise<() => Promise<void>> {
    const child = this.runner.spawn([...this.base, 'event', '--loop', '--event', 'lifecycle'], EVENT_LOG_ENV);
    this.children.add(child);
    const stderr: string[] = [];
    let queue = Promise.resolve();
    child.onStdoutLine((line) => {
      const parsed = parseLifecycleLine(line);
      if (!parsed) return;
      const receivedAt = Date.now();
      // one at a time, so that listeners see events in the order libvirt sent them
      queue = queue
        .then(async () => {
          const guest = await this.refForEvent(parsed);
          listener({ guest, kind: parsed.kind, event: parsed.event, detail: parsed.detail, receivedAt });
        })
        .catch(() => {});
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.eventReadyTimeoutMs); // a driver without RPC logs nothing
      child.onStderrLine((line) => {
        if (EVENT_REGISTERED.test(line)) {
          clearTimeout(timer);
          resolve();
        } else if (!/^\d{4}-\d\d-\d\d /.test(line)) {
          stderr.push(line); // keep the error lines, not the debug log
        }
      });
      void child.exited.then((code) => {
        clearTimeout(timer);
        reject(virshError(stderr.join('\n'), 'event', code ?? undefined));
      });
    });
    const unsubscribe = async (): Promise<void> => {
      child.kill();
      await child.exited;
      this.children.delete(child);
    };
    try {
      await ready;
    } catch (err) {
      this.children.delete(child);
      throw err;
    }
    return unsubscribe;
  }

  async close(): Promise<void> {
    const children = [...this.children];
    this.children.clear();
    for (const child of children) child.kill();
    await Promise.all(children.map((c) => c.exited));
  }

  private async refForEvent(line: VirshLifecycleLine): Promise<GuestRef> {
    const known = this.uuidByName.get(line.name);
    // after these the guest has no id (or no longer exists): no need to ask
    if (known && (line.kind === 'stopped' || line.kind === 'undefined')) return { uuid: known, name: line.name, id: -1 };
    try {
      const info = await this.dominfo(line.name);
      return { uuid: info.uuid, name: info.name, id: info.id };
    } catch {
      return { uuid: known ?? '', name: line.name, id: -1 };
    }
  }

  private async dominfo(uuidOrName: string): Promise<DomInfo> {
    const info = parseDominfo(await this.virsh('dominfo', '--domain', uuidOrName));
    this.uuidByName.set(info.name, info.uuid);
    return info;
  }

  /** Run one virsh command; stdout on success, the mapped LibvirtError otherwise. */
  private async virsh(...args: string[]): Promise<string> {
    const r = await this.runner.run([...this.base, ...args]);
    if (r.exitCode !== 0) throw virshError(r.stderr, args[0] ?? '', r.exitCode);
    return r.stdout;
  }
}

function aborted(guest: GuestRef, cause?: unknown, what = 'managed save'): LibvirtError {
  return new LibvirtError(VirErr.OPERATION_ABORTED, VirFrom.NONE, `${what} of '${guest.name}' was aborted`, { cause });
}

interface Stopper {
  readonly fired: boolean;
  fire(): void;
  /** sleep ms, or less when fired meanwhile */
  sleep(ms: number): Promise<void>;
}

function stopper(): Stopper {
  let fired = false;
  const wakers = new Set<() => void>();
  return {
    get fired() {
      return fired;
    },
    fire() {
      fired = true;
      for (const wake of wakers) wake();
      wakers.clear();
    },
    sleep(ms) {
      if (fired) return Promise.resolve();
      return new Promise((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        wakers.add(wake);
      });
    },
  };
}
