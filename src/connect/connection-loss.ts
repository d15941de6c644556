// Whether an error means the daemon went away during a call (stopped or crashed), as opposed to the daemon failing
// the call. After such a loss the call's outcome is unknown: the work may well have been done (a managed save whose
// image was complete when systemd stopped libvirtd) until someone asks the daemon again.
import { LibvirtError } from '../libvirt/error.js';
import { RpcError, type RpcFailure } from '../rpc/errors.js';

const LOST: readonly RpcFailure[] = ['closed', 'transport', 'keepalive'];

/** what virsh prints when libvirtd goes away under it */
const VIRSH_LOST = /Disconnected from .* due to (end of file|keepalive timeout)|End of file while reading data|Cannot recv data/;

export function isConnectionLoss(err: unknown): boolean {
  if (err instanceof RpcError) return LOST.includes(err.failure);
  return err instanceof LibvirtError && VIRSH_LOST.test(err.message);
}
