// The REMOTE program described once, as data: procedure number → argument and return types. Names and the
// read-only class come from the generated table (procedures.ts), so numbers are written exactly once here.
// Client calls (client.ts) and the server dispatch table (dispatch.ts) are both typed from this description; the
// flag and enum values that go with these procedures are enums.ts's.
import * as X from '../rpc/xdr-types.js';
import type { XdrType } from '../rpc/xdr-types.js';
import { procedureByNumber } from './procedures.js';
import {
  NODE_INFO_MODEL_LEN,
  REMOTE_AUTH_TYPE_LIST_MAX,
  REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX,
  REMOTE_CPUMAP_MAX,
  REMOTE_CPUMAPS_MAX,
  REMOTE_DOMAIN_MEMORY_STATS_MAX,
  REMOTE_VCPUINFO_MAX,
  REMOTE_DOMAIN_JOB_STATS_MAX,
  REMOTE_DOMAIN_LIST_MAX,
  REMOTE_DOMAIN_MESSAGES_MAX,
  REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX,
  REMOTE_MIGRATE_COOKIE_MAX,
  REMOTE_SECURITY_DOI_MAX,
  REMOTE_SECURITY_LABEL_MAX,
  REMOTE_SECURITY_MODEL_MAX,
  nonnullDomain,
  nonnullString,
  remoteDomain,
  remoteString,
  typedParam,
  uuid,
} from './types.js';

export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_VERSION = 1;
export const REMOTE = { prog: REMOTE_PROGRAM, vers: REMOTE_VERSION } as const;

export interface Procedure<A, R> {
  readonly number: number;
  readonly name: string;
  readonly readonly: boolean;
  readonly args: XdrType<A>;
  readonly ret: XdrType<R>;
}

export interface EventMessage<M> {
  readonly number: number;
  readonly name: string;
  readonly body: XdrType<M>;
}

function known(n: number): { name: string; readonly: boolean } {
  const info = procedureByNumber(n);
  if (!info) throw new Error(`procedure ${n} is not in the REMOTE program table`);
  return info;
}

const proc = <A, R>(number: number, args: XdrType<A>, ret: XdrType<R>): Procedure<A, R> => {
  const { name, readonly } = known(number);
  return { number, name, readonly, args, ret };
};

const event = <M>(number: number, body: XdrType<M>): EventMessage<M> => ({ number, name: known(number).name, body });

const none = X.xdrVoid;
const s = <F extends Record<string, XdrType<any>>>(name: string, fields: F) => X.struct(name, fields); // eslint-disable-line @typescript-eslint/no-explicit-any
const domArgs = s('remote_dom_args', { dom: nonnullDomain });
const domFlagsArgs = s('remote_dom_flags_args', { dom: nonnullDomain, flags: X.uint });
const domRet = s('remote_dom_ret', { dom: nonnullDomain });

const migrateParams = X.array(typedParam, REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX);
const cookie = X.varOpaque(REMOTE_MIGRATE_COOKIE_MAX);

const rebootMsg = s('remote_domain_event_reboot_msg', { dom: nonnullDomain });
const capabilitiesRet = (name: string) => s(name, { capabilities: nonnullString });
const lifecycleMsg = s('remote_domain_event_lifecycle_msg', { dom: nonnullDomain, event: X.int, detail: X.int });

/** Every procedure this project calls or serves. */
export const PROC = {
  CONNECT_OPEN: proc(1, s('remote_connect_open_args', { name: remoteString, flags: X.uint }), none),
  CONNECT_CLOSE: proc(2, none, none),
  CONNECT_GET_TYPE: proc(3, none, s('remote_connect_get_type_ret', { type: nonnullString })),
  CONNECT_GET_VERSION: proc(4, none, s('remote_connect_get_version_ret', { hv_ver: X.uhyper })),
  NODE_GET_INFO: proc(
    6,
    none,
    s('remote_node_get_info_ret', {
      model: X.charFixed(NODE_INFO_MODEL_LEN),
      memory: X.uhyper, // KiB
      cpus: X.int,
      mhz: X.int,
      nodes: X.int,
      sockets: X.int,
      cores: X.int,
      threads: X.int,
    }),
  ),
  CONNECT_GET_CAPABILITIES: proc(7, none, capabilitiesRet('remote_connect_get_capabilities_ret')),
  DOMAIN_CREATE: proc(9, domArgs, none),
  DOMAIN_CREATE_XML: proc(10, s('remote_domain_create_xml_args', { xml_desc: nonnullString, flags: X.uint }), domRet),
  DOMAIN_DEFINE_XML: proc(11, s('remote_domain_define_xml_args', { xml: nonnullString }), domRet),
  DOMAIN_DESTROY: proc(12, domArgs, none),
  DOMAIN_GET_XML_DESC: proc(14, domFlagsArgs, s('remote_domain_get_xml_desc_ret', { xml: nonnullString })),
  DOMAIN_GET_AUTOSTART: proc(15, domArgs, s('remote_domain_get_autostart_ret', { autostart: X.int })),
  DOMAIN_GET_INFO: proc(
    16,
    domArgs,
    s('remote_domain_get_info_ret', {
      state: X.uchar,
      maxMem: X.uhyper, // KiB
      memory: X.uhyper, // KiB
      nrVirtCpu: X.ushort,
      cpuTime: X.uhyper, // ns
    }),
  ),
  DOMAIN_GET_MAX_MEMORY: proc(17, domArgs, s('remote_domain_get_max_memory_ret', { memory: X.uhyper })),
  DOMAIN_GET_MAX_VCPUS: proc(18, domArgs, s('remote_domain_get_max_vcpus_ret', { num: X.int })),
  DOMAIN_GET_OS_TYPE: proc(19, domArgs, s('remote_domain_get_os_type_ret', { type: nonnullString })),
  DOMAIN_GET_VCPUS: proc(
    20,
    s('remote_domain_get_vcpus_args', { dom: nonnullDomain, maxinfo: X.int, maplen: X.int }),
    s('remote_domain_get_vcpus_ret', {
      info: X.array(
        s('remote_vcpu_info', { number: X.uint, state: X.int, cpu_time: X.uhyper, cpu: X.int }),
        REMOTE_VCPUINFO_MAX,
      ),
      cpumaps: X.varOpaque(REMOTE_CPUMAPS_MAX),
    }),
  ),
  CONNECT_LIST_DEFINED_DOMAINS: proc(
    21,
    s('remote_connect_list_defined_domains_args', { maxnames: X.int }),
    s('remote_connect_list_defined_domains_ret', { names: X.array(nonnullString, REMOTE_DOMAIN_LIST_MAX) }),
  ),
  DOMAIN_LOOKUP_BY_ID: proc(22, s('remote_domain_lookup_by_id_args', { id: X.int }), domRet),
  DOMAIN_LOOKUP_BY_NAME: proc(23, s('remote_domain_lookup_by_name_args', { name: nonnullString }), domRet),
  DOMAIN_LOOKUP_BY_UUID: proc(24, s('remote_domain_lookup_by_uuid_args', { uuid }), domRet),
  CONNECT_NUM_OF_DEFINED_DOMAINS: proc(25, none, s('remote_connect_num_of_defined_domains_ret', { num: X.int })),
  DOMAIN_REBOOT: proc(27, domFlagsArgs, none),
  DOMAIN_RESUME: proc(28, domArgs, none),
  DOMAIN_SET_AUTOSTART: proc(29, s('remote_domain_set_autostart_args', { dom: nonnullDomain, autostart: X.int }), none),
  DOMAIN_SHUTDOWN: proc(33, domArgs, none),
  DOMAIN_SUSPEND: proc(34, domArgs, none),
  DOMAIN_UNDEFINE: proc(35, domArgs, none),
  CONNECT_LIST_DOMAINS: proc(
    37,
    s('remote_connect_list_domains_args', { maxids: X.int }),
    s('remote_connect_list_domains_ret', { ids: X.array(X.int, REMOTE_DOMAIN_LIST_MAX) }),
  ),
  CONNECT_NUM_OF_DOMAINS: proc(51, none, s('remote_connect_num_of_domains_ret', { num: X.int })),
  CONNECT_GET_HOSTNAME: proc(59, none, s('remote_connect_get_hostname_ret', { hostname: nonnullString })),
  CONNECT_SUPPORTS_FEATURE: proc(
    60,
    s('remote_connect_supports_feature_args', { feature: X.int }),
    s('remote_connect_supports_feature_ret', { supported: X.int }),
  ),
  AUTH_LIST: proc(66, none, s('remote_auth_list_ret', { types: X.array(X.int, REMOTE_AUTH_TYPE_LIST_MAX) })),
  AUTH_SASL_INIT: proc(67, none, s('remote_auth_sasl_init_ret', { mechlist: nonnullString })),
  AUTH_POLKIT: proc(70, none, s('remote_auth_polkit_ret', { complete: X.int })),
  NODE_GET_FREE_MEMORY: proc(102, none, s('remote_node_get_free_memory_ret', { freeMem: X.uhyper })),
  CONNECT_GET_URI: proc(110, none, s('remote_connect_get_uri_ret', { uri: nonnullString })),
  DOMAIN_GET_SECURITY_LABEL: proc(
    121,
    domArgs,
    s('remote_domain_get_security_label_ret', { label: X.charArray(REMOTE_SECURITY_LABEL_MAX), enforcing: X.int }),
  ),
  NODE_GET_SECURITY_MODEL: proc(
    122,
    none,
    s('remote_node_get_security_model_ret', {
      model: X.charArray(REMOTE_SECURITY_MODEL_MAX),
      doi: X.charArray(REMOTE_SECURITY_DOI_MAX),
    }),
  ),
  CONNECT_IS_SECURE: proc(149, none, s('remote_connect_is_secure_ret', { secure: X.int })),
  DOMAIN_IS_ACTIVE: proc(150, domArgs, s('remote_domain_is_active_ret', { active: X.int })),
  DOMAIN_IS_PERSISTENT: proc(151, domArgs, s('remote_domain_is_persistent_ret', { persistent: X.int })),
  CONNECT_GET_LIB_VERSION: proc(157, none, s('remote_connect_get_lib_version_ret', { lib_ver: X.uhyper })),
  DOMAIN_MEMORY_STATS: proc(
    159,
    s('remote_domain_memory_stats_args', { dom: nonnullDomain, maxStats: X.uint, flags: X.uint }),
    s('remote_domain_memory_stats_ret', {
      stats: X.array(s('remote_domain_memory_stat', { tag: X.int, val: X.uhyper }), REMOTE_DOMAIN_MEMORY_STATS_MAX),
    }),
  ),
  DOMAIN_GET_JOB_INFO: proc(
    163,
    domArgs,
    s('remote_domain_get_job_info_ret', {
      type: X.int,
      timeElapsed: X.uhyper,
      timeRemaining: X.uhyper,
      dataTotal: X.uhyper,
      dataProcessed: X.uhyper,
      dataRemaining: X.uhyper,
      memTotal: X.uhyper,
      memProcessed: X.uhyper,
      memRemaining: X.uhyper,
      fileTotal: X.uhyper,
      fileProcessed: X.uhyper,
      fileRemaining: X.uhyper,
    }),
  ),
  DOMAIN_ABORT_JOB: proc(164, domArgs, none),
  DOMAIN_MANAGED_SAVE: proc(182, domFlagsArgs, none),
  DOMAIN_HAS_MANAGED_SAVE_IMAGE: proc(183, domFlagsArgs, s('remote_domain_has_managed_save_image_ret', { result: X.int })),
  DOMAIN_MANAGED_SAVE_REMOVE: proc(184, domFlagsArgs, none),
  DOMAIN_SNAPSHOT_NUM: proc(187, domFlagsArgs, s('remote_domain_snapshot_num_ret', { num: X.int })),
  DOMAIN_CREATE_WITH_FLAGS: proc(196, domFlagsArgs, domRet),
  DOMAIN_GET_VCPUS_FLAGS: proc(200, domFlagsArgs, s('remote_domain_get_vcpus_flags_ret', { num: X.int })),
  CONNECT_GET_SYSINFO: proc(
    203,
    s('remote_connect_get_sysinfo_args', { flags: X.uint }),
    s('remote_connect_get_sysinfo_ret', { sysinfo: nonnullString }),
  ),
  DOMAIN_GET_STATE: proc(212, domFlagsArgs, s('remote_domain_get_state_ret', { state: X.int, reason: X.int })),
  DOMAIN_GET_CONTROL_INFO: proc(
    229,
    domFlagsArgs,
    s('remote_domain_get_control_info_ret', { state: X.uint, details: X.uint, stateTime: X.uhyper }),
  ),
  DOMAIN_UNDEFINE_FLAGS: proc(231, domFlagsArgs, none),
  DOMAIN_DESTROY_FLAGS: proc(234, domFlagsArgs, none),
  DOMAIN_RESET: proc(245, domFlagsArgs, none),
  DOMAIN_SHUTDOWN_FLAGS: proc(258, domFlagsArgs, none),
  DOMAIN_SET_METADATA: proc(
    264,
    s('remote_domain_set_metadata_args', {
      dom: nonnullDomain,
      type: X.int,
      metadata: remoteString,
      key: remoteString,
      uri: remoteString,
      flags: X.uint,
    }),
    none,
  ),
  DOMAIN_GET_METADATA: proc(
    265,
    s('remote_domain_get_metadata_args', { dom: nonnullDomain, type: X.int, uri: remoteString, flags: X.uint }),
    s('remote_domain_get_metadata_ret', { metadata: nonnullString }),
  ),
  CONNECT_LIST_ALL_DOMAINS: proc(
    273,
    s('remote_connect_list_all_domains_args', { need_results: X.int, flags: X.uint }),
    s('remote_connect_list_all_domains_ret', { domains: X.array(nonnullDomain, REMOTE_DOMAIN_LIST_MAX), ret: X.uint }),
  ),
  NODE_GET_CPU_MAP: proc(
    293,
    s('remote_node_get_cpu_map_args', { need_map: X.int, need_online: X.int, flags: X.uint }),
    s('remote_node_get_cpu_map_ret', { cpumap: X.varOpaque(REMOTE_CPUMAP_MAX), online: X.uint, ret: X.int }),
  ),
  DOMAIN_GET_JOB_STATS: proc(
    298,
    domFlagsArgs,
    s('remote_domain_get_job_stats_ret', { type: X.int, params: X.array(typedParam, REMOTE_DOMAIN_JOB_STATS_MAX) }),
  ),
  DOMAIN_MIGRATE_BEGIN3_PARAMS: proc(
    302,
    s('remote_domain_migrate_begin3_params_args', { dom: nonnullDomain, params: migrateParams, flags: X.uint }),
    s('remote_domain_migrate_begin3_params_ret', { cookie_out: cookie, xml: nonnullString }),
  ),
  DOMAIN_MIGRATE_PREPARE3_PARAMS: proc(
    303,
    s('remote_domain_migrate_prepare3_params_args', { params: migrateParams, cookie_in: cookie, flags: X.uint }),
    s('remote_domain_migrate_prepare3_params_ret', { cookie_out: cookie, uri_out: remoteString }),
  ),
  DOMAIN_MIGRATE_PERFORM3_PARAMS: proc(
    305,
    s('remote_domain_migrate_perform3_params_args', {
      dom: nonnullDomain,
      dconnuri: remoteString,
      params: migrateParams,
      cookie_in: cookie,
      flags: X.uint,
    }),
    s('remote_domain_migrate_perform3_params_ret', { cookie_out: cookie }),
  ),
  DOMAIN_MIGRATE_FINISH3_PARAMS: proc(
    306,
    s('remote_domain_migrate_finish3_params_args', { params: migrateParams, cookie_in: cookie, flags: X.uint, cancelled: X.int }),
    s('remote_domain_migrate_finish3_params_ret', { dom: nonnullDomain, cookie_out: cookie }),
  ),
  DOMAIN_MIGRATE_CONFIRM3_PARAMS: proc(
    307,
    s('remote_domain_migrate_confirm3_params_args', {
      dom: nonnullDomain,
      params: migrateParams,
      cookie_in: cookie,
      flags: X.uint,
      cancelled: X.int,
    }),
    none,
  ),
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: proc(
    316,
    s('remote_connect_domain_event_callback_register_any_args', { eventID: X.int, dom: remoteDomain }),
    s('remote_connect_domain_event_callback_register_any_ret', { callbackID: X.int }),
  ),
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: proc(
    317,
    s('remote_connect_domain_event_callback_deregister_any_args', { callbackID: X.int }),
    none,
  ),
  DOMAIN_GET_TIME: proc(337, domFlagsArgs, s('remote_domain_get_time_ret', { seconds: X.hyper, nseconds: X.uint })),
  DOMAIN_SET_TIME: proc(
    338,
    s('remote_domain_set_time_args', { dom: nonnullDomain, seconds: X.hyper, nseconds: X.uint, flags: X.uint }),
    none,
  ),
  CONNECT_GET_DOMAIN_CAPABILITIES: proc(
    342,
    s('remote_connect_get_domain_capabilities_args', {
      emulatorbin: remoteString,
      arch: remoteString,
      machine: remoteString,
      virttype: remoteString,
      flags: X.uint,
    }),
    capabilitiesRet('remote_connect_get_domain_capabilities_ret'),
  ),
  CONNECT_GET_ALL_DOMAIN_STATS: proc(
    344,
    s('remote_connect_get_all_domain_stats_args', {
      doms: X.array(nonnullDomain, REMOTE_DOMAIN_LIST_MAX),
      stats: X.uint,
      flags: X.uint,
    }),
    s('remote_connect_get_all_domain_stats_ret', {
      retStats: X.array(
        s('remote_domain_stats_record', {
          dom: nonnullDomain,
          params: X.array(typedParam, REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX),
        }),
        REMOTE_DOMAIN_LIST_MAX,
      ),
    }),
  ),
  DOMAIN_DEFINE_XML_FLAGS: proc(350, s('remote_domain_define_xml_flags_args', { xml: nonnullString, flags: X.uint }), domRet),
  CONNECT_REGISTER_CLOSE_CALLBACK: proc(360, none, none),
  CONNECT_UNREGISTER_CLOSE_CALLBACK: proc(361, none, none),
  DOMAIN_GET_MESSAGES: proc(
    426,
    domFlagsArgs,
    s('remote_domain_get_messages_ret', { msgs: X.array(nonnullString, REMOTE_DOMAIN_MESSAGES_MAX) }),
  ),
} as const;

export type ProcName = keyof typeof PROC;
export type ArgsOf<K extends ProcName> = X.Infer<(typeof PROC)[K]['args']>;
export type RetOf<K extends ProcName> = X.Infer<(typeof PROC)[K]['ret']>;

/** Event messages (type MESSAGE, serial 0) of the REMOTE program. */
export const EVENT = {
  DOMAIN_EVENT_LIFECYCLE: event(107, lifecycleMsg),
  DOMAIN_EVENT_CALLBACK_LIFECYCLE: event(
    318,
    s('remote_domain_event_callback_lifecycle_msg', { callbackID: X.int, msg: lifecycleMsg }),
  ),
  DOMAIN_EVENT_CALLBACK_REBOOT: event(319, s('remote_domain_event_callback_reboot_msg', { callbackID: X.int, msg: rebootMsg })),
} as const;

export type EventName = keyof typeof EVENT;
export type EventOf<K extends EventName> = X.Infer<(typeof EVENT)[K]['body']>;
