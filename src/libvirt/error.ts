// libvirt's error vocabulary (numbers from virterror.h) and the typed error that carries it, whichever side made it:
// a daemon's handler, the wire (remote_error), or a client that read virsh's message.
import { EXIT, GuestsError, type ErrorDetails } from '../errors.js';

/** virErrorNumber values this project produces or reacts to. */
export const VirErr = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  OPERATION_DENIED: 29,
  RPC: 39,
  NO_DOMAIN: 42,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_ABORTED: 78,
  AUTH_FAILED: 45,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  ACCESS_DENIED: 88,
  NO_DOMAIN_METADATA: 80,
} as const;
export type VirErrCode = (typeof VirErr)[keyof typeof VirErr];

/** virErrorDomain values. */
export const VirFrom = {
  NONE: 0,
  DOM: 6,
  RPC: 7,
  QEMU: 10,
  REMOTE: 13,
  DOMAIN: 20,
  ACCESS: 55,
} as const;

export const VirErrLevel = { WARNING: 1, ERROR: 2 } as const;

/** An error reported by libvirt (or guestd) through remote_error, or produced locally with libvirt's numbers. */
export class LibvirtError extends GuestsError {
  readonly virCode: number;
  readonly virDomain: number;
  readonly level: number;

  constructor(virCode: number, virDomain: number, message: string, details: ErrorDetails & { level?: number } = {}) {
    super(`libvirt-${virCode}`, EXIT.FAILURE, message, details);
    this.virCode = virCode;
    this.virDomain = virDomain;
    this.level = details.level ?? VirErrLevel.ERROR;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), virCode: this.virCode, virDomain: this.virDomain };
  }
}

/** Whether `err` is libvirt's error `code` (VirErr.NO_DOMAIN…), from whichever domain it came. */
export function isVirError(err: unknown, code: VirErrCode): err is LibvirtError {
  return err instanceof LibvirtError && err.virCode === code;
}
