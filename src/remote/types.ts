// The REMOTE program's shared XDR types and limits (remote_protocol.x), built from the rpc type DSL.
import { uuidFromBytes, uuidToBytes } from '../libvirt/uuid.js';
import { XdrError } from '../rpc/errors.js';
import * as X from '../rpc/xdr-types.js';

const REMOTE_STRING_MAX = 4194304;
export const REMOTE_DOMAIN_LIST_MAX = 16384;
export const REMOTE_AUTH_TYPE_LIST_MAX = 20;
export const REMOTE_DOMAIN_JOB_STATS_MAX = 64;
export const REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX = 262144;
/** VIR_SECURITY_MODEL_BUFLEN / VIR_SECURITY_DOI_BUFLEN / VIR_SECURITY_LABEL_BUFLEN: the buffer incl. its NUL */
export const REMOTE_SECURITY_MODEL_MAX = 257;
export const REMOTE_SECURITY_DOI_MAX = 257;
export const REMOTE_SECURITY_LABEL_MAX = 4097;
export const REMOTE_DOMAIN_MESSAGES_MAX = 2048;
export const REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX = 64;
export const REMOTE_MIGRATE_COOKIE_MAX = 4194304;
export const REMOTE_CPUMAP_MAX = 2048;
export const REMOTE_VCPUINFO_MAX = 16384;
export const REMOTE_CPUMAPS_MAX = 8388608;
export const REMOTE_DOMAIN_MEMORY_STATS_MAX = 1024;
/** remote_node_get_info_ret's `char model[32]`: a fixed array, each char an XDR int */
export const NODE_INFO_MODEL_LEN = 32;

export const nonnullString = X.string(REMOTE_STRING_MAX);
/** remote_string: a pointer, NULL allowed */
export const remoteString = X.optional(nonnullString);

/** remote_uuid: 16 raw bytes, shown as the canonical lowercase 8-4-4-4-12 string */
export const uuid = X.mapped(
  X.opaque(16),
  'remote_uuid',
  (text: string): Buffer => {
    const bytes = uuidToBytes(text);
    if (bytes === null) throw new XdrError(`not a UUID: '${text}'`);
    return bytes;
  },
  uuidFromBytes,
);

/** remote_nonnull_domain: id is -1 for an inactive domain */
export const nonnullDomain = X.struct('remote_nonnull_domain', { name: nonnullString, uuid, id: X.int });
export type RemoteDomain = X.Infer<typeof nonnullDomain>;
export const remoteDomain = X.optional(nonnullDomain);

const TypedParamType = { INT: 1, UINT: 2, LLONG: 3, ULLONG: 4, DOUBLE: 5, BOOLEAN: 6, STRING: 7 } as const;

const typedParamValue = X.union('remote_typed_param_value', {
  [TypedParamType.INT]: X.int,
  [TypedParamType.UINT]: X.uint,
  [TypedParamType.LLONG]: X.hyper,
  [TypedParamType.ULLONG]: X.uhyper,
  [TypedParamType.DOUBLE]: X.double,
  [TypedParamType.BOOLEAN]: X.int,
  [TypedParamType.STRING]: nonnullString,
});
export const typedParam = X.struct('remote_typed_param', { field: nonnullString, value: typedParamValue });
export type TypedParam = X.Infer<typeof typedParam>;

/** typed params as a plain record; 64-bit values stay bigint, booleans become true/false */
export function typedParamsToRecord(params: readonly TypedParam[]): Record<string, number | bigint | string | boolean> {
  const out: Record<string, number | bigint | string | boolean> = {};
  for (const p of params) out[p.field] = p.value.type === TypedParamType.BOOLEAN ? p.value.value !== 0 : p.value.value;
  return out;
}

/** builders for a server filling typed params */
export const tp = {
  int: (field: string, value: number): TypedParam => ({ field, value: { type: TypedParamType.INT, value } }),
  uint: (field: string, value: number): TypedParam => ({ field, value: { type: TypedParamType.UINT, value } }),
  llong: (field: string, value: bigint): TypedParam => ({ field, value: { type: TypedParamType.LLONG, value } }),
  ullong: (field: string, value: bigint): TypedParam => ({ field, value: { type: TypedParamType.ULLONG, value } }),
  string: (field: string, value: string): TypedParam => ({ field, value: { type: TypedParamType.STRING, value } }),
  boolean: (field: string, value: boolean): TypedParam => ({
    field,
    value: { type: TypedParamType.BOOLEAN, value: value ? 1 : 0 },
  }),
};
