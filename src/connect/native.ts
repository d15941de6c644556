// The Connection contract over libvirt's own RPC protocol (src/remote), for unix sockets and TLS: the same code
// path talks to real libvirtd and to guestd. The handshake is virsh's: AUTH_LIST (+ polkit), SUPPORTS_FEATURE
// keepalive, CONNECT_OPEN.
import type { Duplex } from 'node:stream';
import { connectTls, connectUnix } from '../rpc/transport.js';
import { authenticate } from '../remote/auth.js';
import { RemoteClient } from '../remote/client.js';
import { isVirError, LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import {
  ConnectFlags,
  DomainEventId,
  DomainStats,
  DomainStatsField,
  Feature,
  ListAllDomainsFlags,
  MetadataType,
  MigrateFlags,
  ModificationImpact,
  SaveFlags,
  SetTimeFlags,
  StartFlags,
} from '../remote/enums.js';
import { EVENT, PROC, type EventOf } from '../remote/protocol.js';
import type { RemoteDomain } from '../remote/types.js';
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
import { abortableJob, closeClient, delay, jobProgress, onOwnConnection, type JobConnections } from './native-job.js';
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

const toRef = (d: RemoteDomain): GuestRef => ({ uuid: d.uuid, name: d.name, id: d.id });
const toDom = (g: GuestRef): RemoteDomain => ({ name: g.name, uuid: g.uuid, id: g.id });

export class NativeConnection implements Connection {
  readonly backend = 'native' as const;
  private closing: Promise<void> | undefined;
  /** what its jobs run with (native-job.ts) */
  private readonly jobs: JobConnections;

  constructor(
    readonly uri: string,
    /** the REMOTE program client: procedures beyond Connection (guestctl's define, dominfo, version…) */
    readonly remote: RemoteClient,
    /** opens another connection to the same daemon, for a job of its own (see native-job.ts's abortableJob) */
    openAnother: () => Promise<RemoteClient>,
  ) {
    this.jobs = { remote, openAnother, abortJob: (guest) => this.abortJob(guest) };
  }

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
          // one field of a few: looked up, not turned into a record (10 000 guests in one reply)
          const value = params.find((p) => p.field === DomainStatsField.STATE)?.value.value;
          const state = typeof value === 'number' ? value : 0;
          return { uuid: dom.uuid, name: dom.name, id: dom.id, state: DOMAIN_STATES[state] ?? 'nostate', persistent: persistent(dom.uuid) };
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
    await abortableJob(this.jobs, guest, 'managed save', options.signal, (client) =>
      client.call(PROC.DOMAIN_MANAGED_SAVE, { dom: toDom(guest), flags }, { timeoutMs: 0 }), poll);
    // an abort that came too late leaves the guest saved: that is success, not an error
  }

  async migrate(guest: GuestRef, destUri: string, options: MigrateOptions = {}): Promise<void> {
    const flags =
      MigrateFlags.PEER2PEER |
      (options.live ? MigrateFlags.LIVE : 0) |
      (options.persistent ? MigrateFlags.PERSIST_DEST : 0) |
      (options.undefineSource ? MigrateFlags.UNDEFINE_SOURCE : 0);
    await abortableJob(this.jobs, guest, 'migration', options.signal, (client) =>
      client.call(
        PROC.DOMAIN_MIGRATE_PERFORM3_PARAMS,
        { dom: toDom(guest), dconnuri: destUri, params: [], cookie_in: Buffer.alloc(0), flags },
        { timeoutMs: 0 },
      ),
    );
  }

  async jobInfo(guest: GuestRef): Promise<JobProgress> {
    return jobProgress(this.remote, toDom(guest));
  }

  async abortJob(guest: GuestRef): Promise<void> {
    await this.remote.call(PROC.DOMAIN_ABORT_JOB, { dom: toDom(guest) });
  }

  async managedSaveRemove(guest: GuestRef): Promise<void> {
    await this.remote.call(PROC.DOMAIN_MANAGED_SAVE_REMOVE, { dom: toDom(guest), flags: 0 });
  }

  async start(guest: GuestRef, options: StartOptions = {}): Promise<GuestRef> {
    const flags = (options.bypassCache ? StartFlags.BYPASS_CACHE : 0) | (options.forceBoot ? StartFlags.FORCE_BOOT : 0);
    // restoring a big image takes as long as saving it: on a connection of its own, as a save
    const r = await onOwnConnection(this.jobs, (client) =>
      client.call(PROC.DOMAIN_CREATE_WITH_FLAGS, { dom: toDom(guest), flags }, { timeoutMs: 0 }),
    );
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
  // virsh sorts inactive guests by name with an ASCII case-insensitive compare (strcasecmp); the key is computed once
  // per guest, not per comparison, and ties keep a fixed order (byte-wise)
  const keyed = guests.map((g) => ({ g, rank: g.id >= 0 ? g.id : Number.MAX_SAFE_INTEGER, key: asciiLower(g.name) }));
  keyed.sort((a, b) => a.rank - b.rank || byteOrder(a.key, b.key) || byteOrder(a.g.name, b.g.name));
  return keyed.map((k) => k.g);
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** A-Z only, as strcasecmp in the C locale: no other letter is folded */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
