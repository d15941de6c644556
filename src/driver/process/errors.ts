// LibvirtError constructors with libvirt's numbers and message prefixes (as virterror.c renders them), so the
// daemon can pass them over the wire unchanged and virsh prints what it prints for real libvirt.
import { LibvirtError, VirErr, VirFrom } from '../../libvirt/error.js';

export const noDomainByName = (name: string): LibvirtError =>
  new LibvirtError(VirErr.NO_DOMAIN, VirFrom.DOM, `Domain not found: no domain with matching name '${name}'`);
export const noDomainByUuid = (uuid: string): LibvirtError =>
  new LibvirtError(VirErr.NO_DOMAIN, VirFrom.DOM, `Domain not found: no domain with matching uuid '${uuid}'`);
export const noDomainById = (id: number): LibvirtError =>
  new LibvirtError(VirErr.NO_DOMAIN, VirFrom.DOM, `Domain not found: no domain with matching id ${id}`);

export const operationInvalid = (what: string): LibvirtError =>
  new LibvirtError(VirErr.OPERATION_INVALID, VirFrom.DOM, `Requested operation is not valid: ${what}`);
export const operationFailed = (what: string, cause?: unknown): LibvirtError =>
  new LibvirtError(VirErr.OPERATION_FAILED, VirFrom.DOM, `operation failed: ${what}`, { cause });
export const operationAborted = (what: string): LibvirtError =>
  new LibvirtError(VirErr.OPERATION_ABORTED, VirFrom.DOM, `operation aborted: ${what}`);
export const xmlError = (what: string, hint?: string): LibvirtError =>
  // the hint goes into the message too: only the message crosses the wire to virsh
  new LibvirtError(VirErr.XML_ERROR, VirFrom.DOMAIN, `XML error: ${what}${hint ? `; ${hint}` : ''}`, hint ? { hint } : {});
export const invalidArg = (what: string): LibvirtError =>
  new LibvirtError(VirErr.INVALID_ARG, VirFrom.DOM, `invalid argument: ${what}`);
/** two flags asked for at once that exclude each other (libvirt words it without the "invalid argument" prefix) */
export const exclusiveFlags = (a: string, b: string): LibvirtError =>
  new LibvirtError(VirErr.INVALID_ARG, VirFrom.DOM, `Flags '${a}' and '${b}' are mutually exclusive`);
export const argumentUnsupported = (what: string): LibvirtError =>
  new LibvirtError(VirErr.ARGUMENT_UNSUPPORTED, VirFrom.DOM, `argument unsupported: ${what}`);
export const agentUnresponsive = (what: string): LibvirtError =>
  new LibvirtError(VirErr.AGENT_UNRESPONSIVE, VirFrom.DOM, `Guest agent is not responding: ${what}`);
export const noMetadata = (): LibvirtError =>
  new LibvirtError(
    VirErr.NO_DOMAIN_METADATA,
    VirFrom.DOM,
    'metadata not found: Requested metadata element is not present',
  );
