// The Connection contract over libvirt's own RPC protocol (src/remote), for unix sockets and TLS: the same code
// path talks to real libvirtd and to guestd. The handshake is virsh's: AUTH_LIST (+ polkit), SUPPORTS_FEATURE
// keepalive, CONNECT_OPEN.
import type { Duplex } from 'node:stream';
import { RpcError } from '../rpc/errors.js';
import { connectTls, connectUnix } from '../rpc/transport.js';
import { authenticate } from '../remote/auth.js';
import { RemoteClient } from '../remote/client.js';
import { isVirError, LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import {
  ConnectFlags,
  DomainEventId,
  DomainStats,
  DomainStatsField,
  EVENT,
  Feature,
  JobField,
  ListAllDomainsFlags,
  MetadataType,
  MigrateFlags,
  ModificationImpact,
  PROC,
  SaveFlags,
  SetTimeFlags,
  StartFlags,
  type EventOf,
} from '../remote/protocol.js';
import { typedParamsToRecord, type RemoteDomain } from '../remote/types.js';
import { DOMAIN_STATES, type DomainState } from '../libvirt/domain-state.js';
import type { JobProgress } from '../libvirt/job.js';
import { LIFECYCLE_KINDS } from '../libvirt/lifecycle.js';
import { parseUuid } from '../libvirt/uuid.js';
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
import type { ResolvedUri, Target } from './target.js';

export interface NativeOptions {
  /** open read-only (VIR_CONNECT_RO); default: what the URI resolution said */
  readonly?: boolean;
  /** keepalive PING after this much silence (virsh default 5000 ms); 0 disables probing */
  keepaliveIntervalMs?: number;
  /** unanswered PINGs tolerated; the peer is dead after interval × (count + 1) (virsh default 6) */
  keepaliveCount?: number;
  /** per-call reply timeout; none by default (keepalive detects dead peers). Managed saves never time out. */
  callTimeoutMs?: number;
  /** give up connecting after this long (default 30 s) */
  connectTimeoutMs?: number;
}

const JOB_TYPES: readonly JobProgress['type'][] = ['none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled'];

async function openSocket(target: Target, timeoutMs: number | undefined): Promise<Duplex> {
  const options = timeoutMs !== undefined ? { timeoutMs } : {};
  return target.transport === 'unix' ? connectUnix(target.socketPath, options) : connectTls(target, options);
}

/** Connect, authenticate and open the hypervisor connection named by `resolved.remoteName`. */
export async function openNative(resolved: ResolvedUri, options: NativeOptions = {}): Promise<NativeConnection> {
  if (!resolved.target) {
    throw new LibvirtError(VirErr.NO_SUPPORT, VirFrom.REMOTE, `the native client cannot open '${resolved.original}'`, {
      hint: resolved.virshReason ?? 'use the virsh backend for this URI',
    });
  }
  const target = resolved.target;
  const open = async (): Promise<RemoteClient> => {
    const socket = await openSocket(target, options.connectTimeoutMs);
    const client = new RemoteClient(socket, options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {});
    try {
      await authenticate(client);
      const { supported } = await client.call(PROC.CONNECT_SUPPORTS_FEATURE, { feature: Feature.PROGRAM_KEEPALIVE });
      const interval = options.keepaliveIntervalMs ?? 5000;
      if (supported === 1 && interval > 0) client.startKeepalive({ intervalMs: interval, count: options.keepaliveCount ?? 6 });
      const readonly = options.readonly ?? resolved.readonly;
      await client.call(PROC.CONNECT_OPEN, { name: resolved.remoteName, flags: readonly ? ConnectFlags.RO : 0 });
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  };
  return new NativeConnection(resolved.original, await open(), open);
}

/** CONNECT_CLOSE, then the socket; a dead peer is closed all the same */
async function closeClient(client: RemoteClient): Promise<void> {
  if (!client.closed) {
    try {
      await client.call(PROC.CONNECT_CLOSE, undefined, { timeoutMs: 5000 });
    } catch {
      // closing anyway
    }
  }
  await client.close();
}

const toRef = (d: RemoteDomain): GuestRef => ({ uuid: d.uuid, name: d.name, id: d.id });
const toDom = (g: GuestRef): RemoteDomain => ({ name: g.name, uuid: g.uuid, id: g.id });
const num = (v: unknown): number | undefined =>
  typeof v === 'bigint' || typeof v === 'number' ? Number(v) : undefined;

export class NativeConnection implements Connection {
  readonly backend = 'native' as const;
  private closing: Promise<void> | undefined;

  constructor(
    readonly uri: string,
    /** the REMOTE program client: procedures beyond Connection (guestctl's define, dominfo, version…) */
    readonly remote: RemoteClient,
    /** opens another connection to the same daemon, for a job of its own (see abortableJob) */
    private readonly openAnother: () => Promise<RemoteClient>,
  ) {}

  async listGuests(filter: ListFilter = {}): Promise<GuestInfo[]> {
    const which = filter.which ?? 'active';
    let flags =
      which === 'all'
        ? ListAllDomainsFlags.ACTIVE | ListAllDomainsFlags.INACTIVE
        : which === 'inactive'
          ? ListAllDomainsFlags.INACTIVE
          : ListAllDomainsFlags.ACTIVE;
    if (filter.persistence === 'persistent') flags |= ListAllDomainsFlags.PERSISTENT;
    if (filter.persistence === 'transient') flags |= ListAllDomainsFlags.TRANSIENT;
    const list = (f: number) => this.remote.call(PROC.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags: f });
    const [transient, stats] = await Promise.all([
      // one more filtered list tells persistence for all guests at once; transient guests are the few
      filter.persistence
        ? undefined
        : list(flags | ListAllDomainsFlags.TRANSIENT).then((r) => new Set(r.domains.map((d) => d.uuid))),
      // every guest with its state in one call (the list filters are the same bits); a daemon without it is asked
      // guest by guest below
      this.remote.call(PROC.CONNECT_GET_ALL_DOMAIN_STATS, { doms: [], stats: DomainStats.STATE, flags }).then(
        (r) => r.retStats,
        (err: unknown) => {
          if (isVirError(err, VirErr.NO_SUPPORT)) return undefined;
          throw err;
        },
      ),
    ]);
    const persistent = (uuid: string): boolean => (transient ? !transient.has(uuid) : filter.persistence === 'persistent');
    if (stats) {
      return virshOrder(
        stats.map(({ dom, params }): GuestInfo => {
          const state = typedParamsToRecord(params)[DomainStatsField.STATE];
          return { ...toRef(dom), state: DOMAIN_STATES[typeof state === 'number' ? state : 0] ?? 'nostate', persistent: persistent(dom.uuid) };
        }),
      );
    }
    const { domains } = await list(flags);
    const infos = await Promise.all(
      domains.map(async (d): Promise<GuestInfo | undefined> => {
        try {
          return { ...toRef(d), state: (await this.state(toRef(d))).state, persistent: persistent(d.uuid) };
        } catch (err) {
          if (isVirError(err, VirErr.NO_DOMAIN)) return undefined; // gone between the list and the query
          throw err;
        }
      }),
    );
    return virshOrder(infos.filter((g): g is GuestInfo => g !== undefined));
  }

  async lookup(uuidOrName: string): Promise<GuestRef> {
    const uuid = parseUuid(uuidOrName);
    if (uuid !== null) {
      try {
        return toRef((await this.remote.call(PROC.DOMAIN_LOOKUP_BY_UUID, { uuid })).dom);
      } catch (err) {
        // a guest may be named like a UUID; virsh tries the name next as well
        if (!isVirError(err, VirErr.NO_DOMAIN)) throw err;
      }
    }
    return toRef((await this.remote.call(PROC.DOMAIN_LOOKUP_BY_NAME, { name: uuidOrName })).dom);
  }

  async state(guest: GuestRef): Promise<{ state: DomainState; reason: number }> {
    const r = await this.remote.call(PROC.DOMAIN_GET_STATE, { dom: toDom(guest), flags: 0 });
    return { state: DOMAIN_STATES[r.state] ?? 'nostate', reason: r.reason };
  }

  async isPersistent(guest: GuestRef): Promise<boolean> {
    return (await this.remote.call(PROC.DOMAIN_IS_PERSISTENT, { dom: toDom(guest) })).persistent === 1;
  }

  async hasManagedSave(guest: GuestRef): Promise<boolean> {
    return (await this.remote.call(PROC.DOMAIN_HAS_MANAGED_SAVE_IMAGE, { dom: toDom(guest), flags: 0 })).result === 1;
  }

  async managedSave(guest: GuestRef, options: ManagedSaveOptions = {}): Promise<void> {
    const { onProgress } = options;
    const flags = options.bypassCache ? SaveFlags.BYPASS_CACHE : 0;
    const poll = async (ended: AbortSignal): Promise<void> => {
      if (!onProgress) return;
      const interval = options.progressIntervalMs ?? 1000;
      while (!ended.aborted) {
        // woken at once when the save ends, so a short save is not held back by the poll interval
        await delay(interval, ended);
        if (ended.aborted) break;
        try {
          const progress = await this.jobInfo(guest);
          // a running job's progress only, as the virsh backend: 'none' is a job not started yet (the save waits on
          // a connection of its own, so a poll may come first) or already gone
          if (!ended.aborted && (progress.type === 'bounded' || progress.type === 'unbounded')) onProgress(progress);
        } catch {
          // a failed poll (job not started yet, already gone) says nothing about the save
        }
      }
    };
    await this.abortableJob(guest, 'managed save', options.signal, (client) =>
      client.call(PROC.DOMAIN_MANAGED_SAVE, { dom: toDom(guest), flags }, { timeoutMs: 0 }), poll);
    // an abort that came too late leaves the guest saved: that is success, not an error
  }

  async migrate(guest: GuestRef, destUri: string, options: MigrateOptions = {}): Promise<void> {
    const flags =
      MigrateFlags.PEER2PEER |
      (options.live ? MigrateFlags.LIVE : 0) |
      (options.persistent ? MigrateFlags.PERSIST_DEST : 0) |
      (options.undefineSource ? MigrateFlags.UNDEFINE_SOURCE : 0);
    await this.abortableJob(guest, 'migration', options.signal, (client) =>
      client.call(
        PROC.DOMAIN_MIGRATE_PERFORM3_PARAMS,
        { dom: toDom(guest), dconnuri: destUri, params: [], cookie_in: Buffer.alloc(0), flags },
        { timeoutMs: 0 },
      ),
    );
  }

  /**
   * A call that runs a job on the guest (a managed save, a migration), made on a connection of its own: a daemon
   * serves at most max_client_requests calls of one connection at once (libvirtd's and guestd's default: 5) and
   * queues the rest, so jobs sharing this connection would hold back the progress polls, the state polls and the
   * abort of the stop deadline, and a queued job would start after its abort. The job waits on its own connection;
   * `beside` (progress polls, woken by `ended`) and the abort use this one. Aborting `signal` aborts the job
   * (DOMAIN_ABORT_JOB, again until it lands: it fails while the job has not started yet), and the job's failure then
   * says so.
   */
  private async abortableJob(
    guest: GuestRef,
    what: string,
    signal: AbortSignal | undefined,
    job: (client: RemoteClient) => Promise<unknown>,
    beside: (ended: AbortSignal) => Promise<void> = () => Promise.resolve(),
  ): Promise<void> {
    if (signal?.aborted) throw abortedError(guest, what);
    // no connection of its own (none could be opened): the job shares this one
    const own = await this.openAnother().catch(() => null);
    const ended = new AbortController();
    let aborted = false;
    let aborter: Promise<void> = Promise.resolve();
    const onAbort = (): void => {
      aborted = true;
      aborter = (async () => {
        while (!ended.signal.aborted) {
          try {
            return await this.abortJob(guest);
          } catch {
            await delay(50, ended.signal);
          }
        }
      })();
    };
    try {
      // aborted while the connection of its own was being opened: the job is not started
      if (signal?.aborted) throw abortedError(guest, what);
      signal?.addEventListener('abort', onAbort, { once: true });
      const alongside = beside(ended.signal);
      try {
        await job(own ?? this.remote);
      } catch (err) {
        // the host reports the cancelled job its own way; the caller asked for an abort, say that
        if (aborted && !(err instanceof RpcError)) throw abortedError(guest, what, err);
        throw err;
      } finally {
        ended.abort();
        signal?.removeEventListener('abort', onAbort);
        await Promise.all([alongside, aborter]);
      }
    } finally {
      if (own) await closeClient(own);
    }
  }

  async jobInfo(guest: GuestRef): Promise<JobProgress> {
    try {
      const r = await this.remote.call(PROC.DOMAIN_GET_JOB_STATS, { dom: toDom(guest), flags: 0 });
      const p = typedParamsToRecord(r.params);
      return progress(r.type, {
        dataTotal: num(p[JobField.DATA_TOTAL]),
        dataProcessed: num(p[JobField.DATA_PROCESSED]),
        dataRemaining: num(p[JobField.DATA_REMAINING]),
        timeElapsedMs: num(p[JobField.TIME_ELAPSED]),
      });
    } catch (err) {
      // a guest that is not running has no job (libvirtd: OPERATION_INVALID "domain is not running")
      if (isVirError(err, VirErr.OPERATION_INVALID)) return { type: 'none' };
      // an older or smaller daemon without job stats: virsh falls back to the old call, and so do we
      if (!isVirError(err, VirErr.NO_SUPPORT) && !isVirError(err, VirErr.RPC)) throw err;
      const r = await this.remote.call(PROC.DOMAIN_GET_JOB_INFO, { dom: toDom(guest) });
      const known = r.type === 1 || r.type === 2;
      return progress(r.type, {
        dataTotal: known ? Number(r.dataTotal) : undefined,
        dataProcessed: known ? Number(r.dataProcessed) : undefined,
        dataRemaining: known ? Number(r.dataRemaining) : undefined,
        timeElapsedMs: known ? Number(r.timeElapsed) : undefined,
      });
    }
  }

  async abortJob(guest: GuestRef): Promise<void> {
    await this.remote.call(PROC.DOMAIN_ABORT_JOB, { dom: toDom(guest) });
  }

  async managedSaveRemove(guest: GuestRef): Promise<void> {
    await this.remote.call(PROC.DOMAIN_MANAGED_SAVE_REMOVE, { dom: toDom(guest), flags: 0 });
  }

  async start(guest: GuestRef, options: StartOptions = {}): Promise<GuestRef> {
    const flags = (options.bypassCache ? StartFlags.BYPASS_CACHE : 0) | (options.forceBoot ? StartFlags.FORCE_BOOT : 0);
    // restoring a big image takes as long as saving it
    const r = await this.remote.call(PROC.DOMAIN_CREATE_WITH_FLAGS, { dom: toDom(guest), flags }, { timeoutMs: 0 });
    return toRef(r.dom);
  }

  async shutdown(guest: GuestRef): Promise<void> {
    await this.remote.call(PROC.DOMAIN_SHUTDOWN, { dom: toDom(guest) });
  }

  async destroy(guest: GuestRef): Promise<void> {
    await this.remote.call(PROC.DOMAIN_DESTROY, { dom: toDom(guest) });
  }

  async setTime(guest: GuestRef, time: { sync: true } | { seconds: number; nseconds: number }): Promise<void> {
    const args =
      'sync' in time
        ? { seconds: 0n, nseconds: 0, flags: SetTimeFlags.SYNC }
        : { seconds: BigInt(Math.trunc(time.seconds)), nseconds: time.nseconds, flags: 0 };
    await this.remote.call(PROC.DOMAIN_SET_TIME, { dom: toDom(guest), ...args });
  }

  async getTime(guest: GuestRef): Promise<{ seconds: number; nseconds: number }> {
    const r = await this.remote.call(PROC.DOMAIN_GET_TIME, { dom: toDom(guest), flags: 0 });
    return { seconds: Number(r.seconds), nseconds: r.nseconds };
  }

  async getMetadata(guest: GuestRef, uri: string): Promise<string | null> {
    try {
      const r = await this.remote.call(PROC.DOMAIN_GET_METADATA, {
        dom: toDom(guest),
        type: MetadataType.ELEMENT,
        uri,
        flags: 0,
      });
      return r.metadata;
    } catch (err) {
      if (isVirError(err, VirErr.NO_DOMAIN_METADATA)) return null;
      throw err;
    }
  }

  async setMetadata(guest: GuestRef, uri: string, key: string, xml: string | null): Promise<void> {
    const set = (flags: number) =>
      this.remote.call(PROC.DOMAIN_SET_METADATA, { dom: toDom(guest), type: MetadataType.ELEMENT, metadata: xml, key: xml === null ? null : key, uri, flags });
    try {
      await set(ModificationImpact.LIVE | ModificationImpact.CONFIG);
    } catch (err) {
      // not running, or transient: only one definition exists, the current one
      if (!isVirError(err, VirErr.OPERATION_INVALID)) throw err;
      await set(ModificationImpact.CURRENT);
    }
  }

  async onLifecycle(listener: (event: LifecycleEvent) => void): Promise<() => Promise<void>> {
    type Msg = EventOf<'DOMAIN_EVENT_CALLBACK_LIFECYCLE'>;
    // events may arrive in the same chunk as the register reply: hold them until the callback id is known
    let callbackID: number | undefined;
    const early: Msg[] = [];
    const deliver = (m: Msg): void => {
      const kind = LIFECYCLE_KINDS[m.msg.event];
      if (m.callbackID !== callbackID || kind === undefined) return; // another registration, or a newer event kind
      listener({ guest: toRef(m.msg.dom), kind, event: m.msg.event, detail: m.msg.detail, receivedAt: Date.now() });
    };
    const off = this.remote.onEvent(EVENT.DOMAIN_EVENT_CALLBACK_LIFECYCLE, (m) => {
      if (callbackID === undefined) early.push(m);
      else deliver(m);
    });
    try {
      ({ callbackID } = await this.remote.call(PROC.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, {
        eventID: DomainEventId.LIFECYCLE,
        dom: null,
      }));
    } catch (err) {
      off();
      throw err;
    }
    early.splice(0).forEach(deliver);
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      off();
      if (!this.remote.closed) {
        await this.remote.call(PROC.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: callbackID! });
      }
    };
  }

  close(): Promise<void> {
    this.closing ??= closeClient(this.remote);
    return this.closing;
  }
}

/** libvirt lists guests in its hash table's order; virsh (and the original script) show running ones by id */
function virshOrder(guests: GuestInfo[]): GuestInfo[] {
  const rank = (g: GuestInfo): number => (g.id >= 0 ? g.id : Number.MAX_SAFE_INTEGER);
  return guests.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

function progress(type: number, values: Omit<JobProgress, 'type'>): JobProgress {
  const out: JobProgress = { type: JOB_TYPES[type] ?? 'none' };
  for (const [k, v] of Object.entries(values) as [keyof typeof values, number | undefined][]) {
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function abortedError(guest: GuestRef, what: string, cause?: unknown): LibvirtError {
  return new LibvirtError(
    VirErr.OPERATION_ABORTED,
    VirFrom.DOMAIN,
    `operation aborted: ${what} of '${guest.name}' was cancelled`,
    cause === undefined ? {} : { cause },
  );
}

/** resolves after `ms`, or at once when `signal` aborts */
const delay = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', wake);
      resolve();
    }, ms).unref();
    const wake = (): void => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener('abort', wake, { once: true });
  });
