// The error body of a status=ERROR reply (virNetMessageError in virnetprotocol.x, remote_error in
// remote_protocol.x): carried both ways as a LibvirtError.
import { LibvirtError, VirErr, VirErrLevel, VirFrom } from '../libvirt/error.js';
import { int, opaque, optional, string, struct, type Infer } from './xdr-types.js';

const STRING_MAX = 4194304; // VIR_NET_MESSAGE_STRING_MAX
const NAME_MAX = STRING_MAX;

const wireString = optional(string(STRING_MAX));
const wireDomain = optional(struct('virNetMessageDomain', { name: string(NAME_MAX), uuid: opaque(16), id: int }));
const wireNetwork = optional(struct('virNetMessageNetwork', { name: string(NAME_MAX), uuid: opaque(16) }));

export const wireErrorType = struct('virNetMessageError', {
  code: int,
  domain: int,
  message: wireString,
  level: int,
  dom: wireDomain,
  str1: wireString,
  str2: wireString,
  str3: wireString,
  int1: int,
  int2: int,
  net: wireNetwork,
});
export type WireError = Infer<typeof wireErrorType>;

export function libvirtErrorFromWire(e: WireError): LibvirtError {
  // libvirt prints "Unknown error" for a NULL message; say the same rather than an empty string
  return new LibvirtError(e.code, e.domain, e.message ?? 'Unknown error', { level: e.level });
}

/** Any thrown value as the error body sent back to a client. Non-libvirt errors become INTERNAL_ERROR. */
export function wireErrorFrom(err: unknown): WireError {
  const base = { dom: null, str1: null, str2: null, str3: null, int1: 0, int2: 0, net: null };
  if (err instanceof LibvirtError) {
    return { ...base, code: err.virCode, domain: err.virDomain, message: err.message, level: err.level };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    ...base,
    code: VirErr.INTERNAL_ERROR,
    domain: VirFrom.RPC,
    message: `internal error: ${message}`,
    level: VirErrLevel.ERROR,
  };
}
