// The REMOTE procedures guestd serves, mapped onto the Driver. Typed by the program description
// (src/remote/protocol.ts): each handler takes the decoded arguments and returns the value to encode; flags are
// checked (flags.ts) before a handler runs, then translated into the driver's typed flags. Everything not listed here
// is answered NO_SUPPORT by the dispatch table (src/remote/dispatch.ts).
import { hostname } from 'node:os';
import { DOMAIN_STATES, type DomainState } from '../libvirt/domain-state.js';
import type { JobProgress } from '../libvirt/job.js';
import type { DomainRecord, Driver, DriverExtras } from '../driver/driver.js';
import { notSupported } from '../remote/dispatch.js';
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import {
  AuthType,
  ConnectFlags,
  ControlState,
  DestroyFlags,
  DomainEventId,
  DomainStats,
  DomainStatsField,
  Feature,
  GetAllDomainStatsFlags,
  JobField,
  JobOperation,
  JobType,
  MEMORY_STAT_TAGS,
  SaveFlags,
  SetTimeFlags,
  StartFlags,
  UndefineFlags,
  VcpuFlags,
  VcpuState,
  XmlFlags,
} from '../remote/enums.js';
import type { ArgsOf, ProcName, RetOf } from '../remote/protocol.js';
import {
  REMOTE_CPUMAPS_MAX,
  REMOTE_DOMAIN_MEMORY_STATS_MAX,
  REMOTE_VCPUINFO_MAX,
  tp,
  type RemoteDomain,
  type TypedParam,
} from '../remote/types.js';
import type { ClientState } from './client-state.js';
import { affectOf, checkFlags, has, matchesListFlags, metadataKind, SUPPORTED_FLAGS, type FlaggedProc } from './flags.js';
import { migrationHandlers } from './migration-handlers.js';
import { GUESTD_VERSION_NUMBER, LIBVIRT_COMPAT_VERSION_NUMBER } from './version.js';

export type Handler<K extends ProcName> = (args: ArgsOf<K>, client: ClientState) => Promise<RetOf<K>> | RetOf<K>;
export type Handlers = { [K in ProcName]?: Handler<K> };

/** procedures a client may call before CONNECT_OPEN (virsh asks about keepalive first) */
export const BEFORE_OPEN: ReadonlySet<string> = new Set<ProcName>([
  'AUTH_LIST',
  'CONNECT_SUPPORTS_FEATURE',
  'CONNECT_OPEN',
  'CONNECT_CLOSE',
]);

const SUPPORTED_FEATURES = new Set<number>([
  Feature.MIGRATION_P2P,
  Feature.MIGRATION_V3,
  Feature.MIGRATION_PARAMS,
  Feature.PROGRAM_KEEPALIVE,
  Feature.REMOTE_EVENT_CALLBACK,
  Feature.REMOTE_CLOSE_CALLBACK,
]);

const stateNumber = (state: DomainState): number => DOMAIN_STATES.indexOf(state);
export const wireDomain = (d: Pick<DomainRecord, 'name' | 'uuid' | 'id'>): RemoteDomain => ({
  name: d.name,
  uuid: d.uuid,
  id: d.id,
});

const JOB_TYPES: Record<JobProgress['type'], number> = {
  none: JobType.NONE,
  bounded: JobType.BOUNDED,
  unbounded: JobType.UNBOUNDED,
  completed: JobType.COMPLETED,
  failed: JobType.FAILED,
  cancelled: JobType.CANCELLED,
};

export function jobParams(job: JobProgress): TypedParam[] {
  if (job.type === 'none') return [];
  const params: TypedParam[] = [];
  const u = (field: string, v: number | undefined): void => {
    if (v !== undefined) params.push(tp.ullong(field, BigInt(Math.max(0, Math.round(v)))));
  };
  params.push(tp.int(JobField.OPERATION, JobOperation.SAVE));
  u(JobField.TIME_ELAPSED, job.timeElapsedMs);
  u(JobField.DATA_TOTAL, job.dataTotal);
  u(JobField.DATA_PROCESSED, job.dataProcessed);
  u(JobField.DATA_REMAINING, job.dataRemaining);
  u(JobField.MEMORY_TOTAL, job.dataTotal);
  u(JobField.MEMORY_PROCESSED, job.dataProcessed);
  u(JobField.MEMORY_REMAINING, job.dataRemaining);
  return params;
}

/** the stats groups guestd reports (virDomainStatsTypes) */
const KNOWN_STATS = DomainStats.STATE | DomainStats.CPU_TOTAL | DomainStats.BALLOON;
const LIST_FILTERS = 0xff;

/** a domain's CONNECT_GET_ALL_DOMAIN_STATS record, with libvirt's field names */
function domainStats(r: DomainRecord, groups: number): TypedParam[] {
  const params: TypedParam[] = [];
  const F = DomainStatsField;
  if (has(groups, DomainStats.STATE)) params.push(tp.int(F.STATE, stateNumber(r.state)), tp.int(F.REASON, r.reason));
  if (has(groups, DomainStats.CPU_TOTAL) && r.id !== -1) params.push(tp.ullong(F.CPU_TIME, r.cpuTimeNs));
  if (has(groups, DomainStats.BALLOON))
    params.push(tp.ullong(F.BALLOON_CURRENT, BigInt(r.memoryKiB)), tp.ullong(F.BALLOON_MAXIMUM, BigInt(r.maxMemKiB)));
  return params;
}

export interface HandlerContext {
  driver: Driver;
  /** URI reported by CONNECT_GET_URI when the client sent none */
  defaultUri: string;
  /** what the handlers have to say (a migration's figures) */
  log?: (line: string) => void;
}

/** a bitmap of CPU ids, one bit each, `bytes` long (libvirt's cpumap) */
function cpuBitmap(ids: readonly number[], bytes: number): Buffer {
  const map = Buffer.alloc(bytes);
  for (const id of ids) if (id >> 3 < bytes) map[id >> 3]! |= 1 << (id & 7);
  return map;
}

const CONTROL_STATES = { ok: ControlState.OK, job: ControlState.JOB, occupied: ControlState.OCCUPIED, error: ControlState.ERROR };
const VCPU_STATES = { offline: VcpuState.OFFLINE, running: VcpuState.RUNNING, blocked: VcpuState.BLOCKED };

export function createHandlers({ driver, defaultUri, log }: HandlerContext): Handlers {
  const dom = (d: RemoteDomain): DomainRecord => driver.lookupByUuid(d.uuid);
  /** a driver operation libvirt's driver tables may lack: NO_SUPPORT when this driver does */
  const op = <K extends keyof DriverExtras>(proc: ProcName, name: K): NonNullable<DriverExtras[K]> => {
    const fn = driver[name];
    if (typeof fn !== 'function') throw notSupported(proc);
    return (fn as (...a: unknown[]) => unknown).bind(driver) as NonNullable<DriverExtras[K]>;
  };
  /** libvirt's check before asking a guest anything: it must run */
  const active = (d: RemoteDomain): DomainRecord => {
    const r = dom(d);
    if (r.id === -1) throw new LibvirtError(VirErr.OPERATION_INVALID, VirFrom.DOM, 'Requested operation is not valid: domain is not running');
    return r;
  };
  const handlers: Handlers = {
    ...migrationHandlers(driver, log ?? (() => undefined)),
    AUTH_LIST: () => ({ types: [AuthType.NONE] }),
    CONNECT_SUPPORTS_FEATURE: ({ feature }) => ({ supported: SUPPORTED_FEATURES.has(feature) ? 1 : 0 }),
    CONNECT_OPEN: ({ name, flags }, client) => {
      if (has(flags, ConnectFlags.RO)) client.readonly = true; // whatever the socket
      client.opened = true;
      client.uri = name && name !== '' ? name : defaultUri;
    },
    CONNECT_CLOSE: (_args, client) => {
      client.opened = false;
      client.callbacks.clear();
    },
    CONNECT_REGISTER_CLOSE_CALLBACK: () => undefined,
    CONNECT_UNREGISTER_CLOSE_CALLBACK: () => undefined,
    CONNECT_GET_TYPE: () => ({ type: driver.type }),
    CONNECT_GET_VERSION: () => ({ hv_ver: BigInt(GUESTD_VERSION_NUMBER) }),
    CONNECT_GET_LIB_VERSION: () => ({ lib_ver: BigInt(LIBVIRT_COMPAT_VERSION_NUMBER) }),
    CONNECT_GET_HOSTNAME: () => ({ hostname: hostname() }),
    CONNECT_GET_URI: (_args, client) => ({ uri: client.uri ?? defaultUri }),
    CONNECT_NUM_OF_DOMAINS: () => ({ num: driver.list().filter((d) => d.id !== -1).length }),
    CONNECT_LIST_DOMAINS: ({ maxids }) => {
      if (maxids < 0) throw new LibvirtError(VirErr.INVALID_ARG, VirFrom.RPC, 'invalid argument: maxids must not be negative');
      const ids = driver.list().filter((d) => d.id !== -1).map((d) => d.id);
      return { ids: ids.sort((a, b) => a - b).slice(0, maxids) };
    },
    CONNECT_NUM_OF_DEFINED_DOMAINS: () => ({ num: driver.list().filter((d) => d.id === -1).length }),
    CONNECT_LIST_DEFINED_DOMAINS: ({ maxnames }) => {
      if (maxnames < 0) throw new LibvirtError(VirErr.INVALID_ARG, VirFrom.RPC, 'invalid argument: maxnames must not be negative');
      return { names: driver.list().filter((d) => d.id === -1).map((d) => d.name).slice(0, maxnames) };
    },
    // guestd listens on a local unix socket or on TLS: both are secure transports (the client adds whether its own
    // side is encrypted for virConnectIsEncrypted, which asks this same procedure)
    CONNECT_IS_SECURE: () => ({ secure: 1 }),
    CONNECT_GET_CAPABILITIES: () => ({ capabilities: op('CONNECT_GET_CAPABILITIES', 'capabilities')() }),
    CONNECT_GET_DOMAIN_CAPABILITIES: ({ emulatorbin, arch, machine, virttype }) => ({
      capabilities: op('CONNECT_GET_DOMAIN_CAPABILITIES', 'domainCapabilities')({ emulatorbin, arch, machine, virttype }),
    }),
    CONNECT_GET_SYSINFO: () => ({ sysinfo: op('CONNECT_GET_SYSINFO', 'sysinfo')() }),
    NODE_GET_INFO: () => {
      const n = op('NODE_GET_INFO', 'nodeInfo')();
      return {
        model: n.model,
        memory: BigInt(n.memoryKiB),
        cpus: n.cpus,
        mhz: n.mhz,
        nodes: n.nodes,
        sockets: n.sockets,
        cores: n.cores,
        threads: n.threads,
      };
    },
    NODE_GET_FREE_MEMORY: () => ({ freeMem: BigInt(op('NODE_GET_FREE_MEMORY', 'freeMemoryBytes')()) }),
    NODE_GET_CPU_MAP: ({ need_map, need_online }) => {
      const map = op('NODE_GET_CPU_MAP', 'cpuMap')();
      return {
        cpumap: need_map ? cpuBitmap(map.online, Math.ceil(map.cpus / 8)) : Buffer.alloc(0),
        online: need_online ? map.online.length : 0,
        ret: map.cpus,
      };
    },
    CONNECT_LIST_ALL_DOMAINS: ({ need_results, flags }) => {
      const domains = driver.list().filter((d) => matchesListFlags(d, flags));
      return { domains: need_results ? domains.map(wireDomain) : [], ret: domains.length };
    },
    CONNECT_GET_ALL_DOMAIN_STATS: ({ doms, stats, flags }) => {
      const unknown = (stats & ~KNOWN_STATS) >>> 0;
      if (unknown !== 0 && has(flags, GetAllDomainStatsFlags.ENFORCE_STATS))
        throw new LibvirtError(
          VirErr.ARGUMENT_UNSUPPORTED,
          VirFrom.DOM,
          `Stats types bits 0x${unknown.toString(16)} are not supported by this daemon`,
        );
      const groups = stats === 0 ? KNOWN_STATS : stats & KNOWN_STATS;
      const records = doms.length > 0 ? doms.map(dom) : driver.list();
      return {
        retStats: records
          .filter((r) => matchesListFlags(r, flags & LIST_FILTERS))
          .map((r) => ({ dom: wireDomain(r), params: domainStats(r, groups) })),
      };
    },
    DOMAIN_LOOKUP_BY_ID: ({ id }) => ({ dom: wireDomain(driver.lookupById(id)) }),
    DOMAIN_LOOKUP_BY_NAME: ({ name }) => ({ dom: wireDomain(driver.lookupByName(name)) }),
    DOMAIN_LOOKUP_BY_UUID: ({ uuid }) => ({ dom: wireDomain(driver.lookupByUuid(uuid)) }),
    DOMAIN_GET_STATE: ({ dom: d }) => {
      const r = dom(d);
      return { state: stateNumber(r.state), reason: r.reason };
    },
    DOMAIN_GET_INFO: ({ dom: d }) => {
      const r = dom(d);
      return {
        state: stateNumber(r.state),
        maxMem: BigInt(r.maxMemKiB),
        memory: BigInt(r.memoryKiB),
        nrVirtCpu: r.vcpus,
        cpuTime: r.cpuTimeNs,
      };
    },
    DOMAIN_GET_OS_TYPE: ({ dom: d }) => ({ type: dom(d).osType }),
    DOMAIN_GET_MAX_MEMORY: ({ dom: d }) => ({ memory: BigInt(dom(d).maxMemKiB) }),
    // libvirt asks the live definition: an inactive guest has none
    DOMAIN_GET_MAX_VCPUS: ({ dom: d }) => ({ num: active(d).vcpus }),
    DOMAIN_GET_VCPUS_FLAGS: ({ dom: d, flags }) => {
      if (has(flags, VcpuFlags.LIVE) && has(flags, VcpuFlags.CONFIG))
        throw new LibvirtError(VirErr.INVALID_ARG, VirFrom.DOM, "Flags 'live' and 'config' are mutually exclusive");
      return { num: (has(flags, VcpuFlags.LIVE) ? active(d) : dom(d)).vcpus };
    },
    DOMAIN_GET_VCPUS: ({ dom: d, maxinfo, maplen }) => {
      // libvirtd's bounds: the reply must fit the protocol (and a client cannot make us allocate more)
      if (maxinfo < 1 || maplen < 0)
        throw new LibvirtError(VirErr.INVALID_ARG, VirFrom.RPC, 'invalid argument: maxinfo must be positive and maplen not negative');
      if (maxinfo > REMOTE_VCPUINFO_MAX)
        throw new LibvirtError(VirErr.RPC, VirFrom.RPC, 'maxinfo > REMOTE_VCPUINFO_MAX');
      if (maxinfo * maplen > REMOTE_CPUMAPS_MAX)
        throw new LibvirtError(VirErr.RPC, VirFrom.RPC, 'maxinfo * maplen > REMOTE_CPUMAPS_MAX');
      const vcpus = op('DOMAIN_GET_VCPUS', 'vcpus')(dom(d).uuid).slice(0, maxinfo);
      return {
        info: vcpus.map((v) => ({ number: v.number, state: VCPU_STATES[v.state], cpu_time: v.cpuTimeNs, cpu: v.cpu })),
        cpumaps: Buffer.concat(vcpus.map((v) => cpuBitmap(v.affinity, maplen))),
      };
    },
    DOMAIN_MEMORY_STATS: ({ dom: d, maxStats }) => {
      if (maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX)
        throw new LibvirtError(VirErr.RPC, VirFrom.RPC, 'maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX');
      const m = op('DOMAIN_MEMORY_STATS', 'memoryStats')(active(d).uuid);
      const stats = [
        { tag: MEMORY_STAT_TAGS.indexOf('actual'), val: BigInt(m.actualKiB) },
        { tag: MEMORY_STAT_TAGS.indexOf('rss'), val: BigInt(m.rssKiB) },
      ];
      return { stats: stats.slice(0, maxStats) };
    },
    DOMAIN_GET_CONTROL_INFO: ({ dom: d }) => {
      const c = op('DOMAIN_GET_CONTROL_INFO', 'controlInfo')(active(d).uuid);
      return { state: CONTROL_STATES[c.state], details: 0, stateTime: BigInt(c.stateTimeMs) };
    },
    DOMAIN_SUSPEND: async ({ dom: d }) => {
      await op('DOMAIN_SUSPEND', 'suspend')(active(d).uuid);
    },
    DOMAIN_RESUME: async ({ dom: d }) => {
      await op('DOMAIN_RESUME', 'resume')(active(d).uuid);
    },
    DOMAIN_REBOOT: async ({ dom: d }) => {
      await op('DOMAIN_REBOOT', 'reboot')(active(d).uuid);
    },
    DOMAIN_RESET: async ({ dom: d }) => {
      await op('DOMAIN_RESET', 'reset')(active(d).uuid);
    },
    DOMAIN_IS_ACTIVE: ({ dom: d }) => ({ active: dom(d).id !== -1 ? 1 : 0 }),
    DOMAIN_IS_PERSISTENT: ({ dom: d }) => ({ persistent: dom(d).persistent ? 1 : 0 }),
    DOMAIN_GET_AUTOSTART: ({ dom: d }) => ({ autostart: dom(d).autostart ? 1 : 0 }),
    DOMAIN_SET_AUTOSTART: async ({ dom: d, autostart }) => {
      await driver.setAutostart(dom(d).uuid, autostart !== 0);
    },
    DOMAIN_HAS_MANAGED_SAVE_IMAGE: ({ dom: d }) => ({ result: dom(d).hasManagedSave ? 1 : 0 }),
    DOMAIN_SNAPSHOT_NUM: ({ dom: d }) => {
      dom(d);
      return { num: 0 };
    },
    NODE_GET_SECURITY_MODEL: () => {
      throw notSupported('NODE_GET_SECURITY_MODEL');
    },
    DOMAIN_GET_SECURITY_LABEL: () => {
      throw notSupported('DOMAIN_GET_SECURITY_LABEL');
    },
    DOMAIN_GET_MESSAGES: ({ dom: d }) => {
      dom(d);
      return { msgs: [] };
    },
    DOMAIN_GET_XML_DESC: ({ dom: d, flags }, client) => {
      if (client.readonly && has(flags, XmlFlags.SECURE | XmlFlags.MIGRATABLE))
        throw new LibvirtError(VirErr.OPERATION_DENIED, VirFrom.DOMAIN, 'operation forbidden: virDomainGetXMLDesc with secure flag');
      return { xml: driver.getXMLDesc(dom(d).uuid, { inactive: has(flags, XmlFlags.INACTIVE) }) };
    },
    DOMAIN_GET_JOB_STATS: ({ dom: d }) => {
      const job = driver.jobStats(dom(d).uuid);
      return { type: JOB_TYPES[job.type], params: jobParams(job) };
    },
    DOMAIN_GET_JOB_INFO: ({ dom: d }) => {
      const job = driver.jobStats(dom(d).uuid);
      const n = (v: number | undefined): bigint => BigInt(Math.max(0, Math.round(v ?? 0)));
      return {
        type: JOB_TYPES[job.type],
        timeElapsed: n(job.timeElapsedMs),
        timeRemaining: 0n,
        dataTotal: n(job.dataTotal),
        dataProcessed: n(job.dataProcessed),
        dataRemaining: n(job.dataRemaining),
        memTotal: n(job.dataTotal),
        memProcessed: n(job.dataProcessed),
        memRemaining: n(job.dataRemaining),
        fileTotal: 0n,
        fileProcessed: 0n,
        fileRemaining: 0n,
      };
    },
    DOMAIN_ABORT_JOB: async ({ dom: d }) => {
      await driver.abortJob(dom(d).uuid);
    },
    DOMAIN_GET_TIME: async ({ dom: d }) => driver.getTime(dom(d).uuid),
    DOMAIN_SET_TIME: async ({ dom: d, seconds, nseconds, flags }) => {
      const uuid = dom(d).uuid;
      await driver.setTime(uuid, has(flags, SetTimeFlags.SYNC) ? { sync: true } : { seconds, nseconds });
    },
    DOMAIN_GET_METADATA: ({ dom: d, type, uri, flags }) => ({
      metadata: driver.getMetadata(dom(d).uuid, { type: metadataKind(type), uri }, affectOf(flags)),
    }),
    DOMAIN_SET_METADATA: async ({ dom: d, type, metadata, key, uri, flags }) => {
      await driver.setMetadata(dom(d).uuid, { type: metadataKind(type), value: metadata, key, uri }, affectOf(flags));
    },
    DOMAIN_DEFINE_XML: async ({ xml }) => ({ dom: wireDomain(await driver.defineXML(xml)) }),
    DOMAIN_DEFINE_XML_FLAGS: async ({ xml }) => ({ dom: wireDomain(await driver.defineXML(xml)) }),
    DOMAIN_UNDEFINE: async ({ dom: d }) => {
      await driver.undefine(dom(d).uuid, {});
    },
    DOMAIN_UNDEFINE_FLAGS: async ({ dom: d, flags }) => {
      await driver.undefine(dom(d).uuid, { managedSave: has(flags, UndefineFlags.MANAGED_SAVE) });
    },
    DOMAIN_CREATE_XML: async ({ xml_desc, flags }) => ({
      dom: wireDomain(await driver.createXML(xml_desc, { paused: has(flags, StartFlags.PAUSED) })),
    }),
    DOMAIN_CREATE: async ({ dom: d }) => {
      await driver.create(dom(d).uuid, {});
    },
    DOMAIN_CREATE_WITH_FLAGS: async ({ dom: d, flags }) => ({
      dom: wireDomain(
        await driver.create(dom(d).uuid, {
          paused: has(flags, StartFlags.PAUSED),
          bypassCache: has(flags, StartFlags.BYPASS_CACHE),
          forceBoot: has(flags, StartFlags.FORCE_BOOT),
        }),
      ),
    }),
    DOMAIN_SHUTDOWN: async ({ dom: d }) => {
      await driver.shutdown(dom(d).uuid);
    },
    DOMAIN_SHUTDOWN_FLAGS: async ({ dom: d }) => {
      await driver.shutdown(dom(d).uuid);
    },
    DOMAIN_DESTROY: async ({ dom: d }) => {
      await driver.destroy(dom(d).uuid, {});
    },
    DOMAIN_DESTROY_FLAGS: async ({ dom: d, flags }) => {
      await driver.destroy(dom(d).uuid, { graceful: has(flags, DestroyFlags.GRACEFUL) });
    },
    DOMAIN_MANAGED_SAVE: async ({ dom: d, flags }) => {
      await driver.managedSave(dom(d).uuid, {
        bypassCache: has(flags, SaveFlags.BYPASS_CACHE),
        paused: has(flags, SaveFlags.PAUSED),
        running: has(flags, SaveFlags.RUNNING),
      });
    },
    DOMAIN_MANAGED_SAVE_REMOVE: async ({ dom: d }) => {
      await driver.managedSaveRemove(dom(d).uuid);
    },
    CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: ({ eventID, dom: d }, client) => {
      // every event libvirt defines can be registered for, as with libvirtd (virt-manager, `virsh event --all`
      // register many); a process guest only ever has lifecycle and reboot events to send
      if (eventID < 0 || eventID >= DomainEventId.COUNT)
        throw new LibvirtError(
          VirErr.INVALID_ARG,
          VirFrom.RPC,
          `invalid argument: domain event ${eventID} is not one libvirt defines (0 to ${DomainEventId.COUNT - 1})`,
        );
      const callbackID = client.nextCallbackId++;
      client.callbacks.set(callbackID, { eventID, uuid: d ? d.uuid : null });
      return { callbackID };
    },
    CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: ({ callbackID }, client) => {
      if (!client.callbacks.delete(callbackID)) {
        throw new LibvirtError(VirErr.INVALID_ARG, VirFrom.RPC, `invalid argument: no domain event callback ${callbackID}`);
      }
    },
  };
  return withFlagChecks(handlers, driver.type);
}

/** every handler of a procedure that takes flags first refuses the bits it does not understand */
function withFlagChecks(handlers: Handlers, driverType: string): Handlers {
  const out: Record<string, unknown> = { ...handlers };
  for (const proc of Object.keys(SUPPORTED_FLAGS) as FlaggedProc[]) {
    const handler = handlers[proc] as ((args: { flags: number }, client: ClientState) => unknown) | undefined;
    if (!handler) continue;
    out[proc] = (args: { flags: number }, client: ClientState) => {
      checkFlags(proc, args.flags, driverType);
      return handler(args, client);
    };
  }
  return out as Handlers;
}
