// Typed failures of the RPC layer: framing, XDR, transport, timeouts. Every one closes or has closed the
// connection it happened on (except a plain XDR encode error, which is the caller's bug and sends nothing).
import { EXIT, GuestsError, type ErrorDetails } from '../errors.js';

export type RpcFailure =
  | 'connect' // could not reach the peer
  | 'closed' // the connection is gone (peer hung up, or we closed it)
  | 'transport' // socket error while connected
  | 'protocol' // the peer broke the protocol: bad frame, unknown serial, wrong program
  | 'too-large' // a frame length outside libvirt's limits
  | 'timeout' // a call got no reply in time
  | 'keepalive' // the peer stopped answering keepalive PINGs
  | 'aborted' // the caller gave up on a call (AbortSignal)
  | 'xdr'; // a value could not be encoded or decoded

export class RpcError extends GuestsError {
  readonly failure: RpcFailure;
  constructor(failure: RpcFailure, message: string, details: ErrorDetails = {}) {
    super(`rpc-${failure}`, EXIT.FAILURE, message, details);
    this.failure = failure;
  }
}

/** Bad XDR data (truncated, over a declared maximum, malformed) or a value that does not fit its XDR type. */
export class XdrError extends RpcError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('xdr', message, details);
  }
}
