// The REMOTE procedures guestd serves, mapped onto the Driver. Typed by the program description
// (src/remote/protocol.ts): each handler takes the decoded arguments and returns the value to encode; flags are
// checked (flags.ts) before a handler runs, then translated into the driver's typed flags. Everything not listed here
// is answered NO_SUPPORT by the dispatch table (src/remote/dispatch.ts).
import { hostname } from 'node:os';
import { DOMAIN_STATES, type DomainState } from '../libvirt/domain-state.js';
import type { JobProgress } from '../libvirt/job.js';
import type { DomainRecord, Driver } from '../driver/driver.js';
import { notSupported } from '../remote/dispatch.js';
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import {
  AuthType,
  ConnectFlags,
  DestroyFlags,
  DomainEventId,
  Feature,
  JobField,
  JobOperation,
  JobType,
  SaveFlags,
  SetTimeFlags,
  StartFlags,
  UndefineFlags,
  XmlFlags,
  type ArgsOf,
  type ProcName,
  type RetOf,
} from '../remote/protocol.js';
import { tp, type RemoteDomain, type TypedParam } from '../remote/types.js';
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

export interface HandlerContext {
  driver: Driver;
  /** URI reported by CONNECT_GET_URI when the client sent none */
  defaultUri: string;
  /** what the handlers have to say (a migration's figures) */
  log?: (line: string) => void;
}

export function createHandlers({ driver, defaultUri, log }: HandlerContext): Handlers {
  const dom = (d: RemoteDomain): DomainRecord => driver.lookupByUuid(d.uuid);
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
    CONNECT_LIST_ALL_DOMAINS: ({ need_results, flags }) => {
      const domains = driver.list().filter((d) => matchesListFlags(d, flags));
      return { domains: need_results ? domains.map(wireDomain) : [], ret: domains.length };
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
      });
    },
    DOMAIN_MANAGED_SAVE_REMOVE: async ({ dom: d }) => {
      await driver.managedSaveRemove(dom(d).uuid);
    },
    CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: ({ eventID, dom: d }, client) => {
      if (eventID !== DomainEventId.LIFECYCLE)
        throw notSupported('CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY', `domain event ${eventID}`);
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
