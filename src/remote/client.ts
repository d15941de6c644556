// Typed calls of the REMOTE program over an RpcClient: args encoded and the reply decoded from the description
// in protocol.ts, e.g. `await remote.call(PROC.DOMAIN_GET_STATE, { dom, flags: 0 })`.
import type { Duplex } from 'node:stream';
import { RpcClient, type CallOptions, type CloseListener } from '../rpc/client.js';
import { RpcError, XdrError } from '../rpc/errors.js';
import type { KeepaliveOptions } from '../rpc/keepalive.js';
import { decode, encode } from '../rpc/xdr-types.js';
import { REMOTE, type EventMessage, type Procedure } from './protocol.js';

export interface RemoteClientOptions {
  callTimeoutMs?: number;
}

type CallRest<A> = A extends void ? [args?: A, options?: CallOptions] : [args: A, options?: CallOptions];

export class RemoteClient {
  readonly rpc: RpcClient;

  constructor(socket: Duplex, options: RemoteClientOptions = {}) {
    this.rpc = new RpcClient(socket, {
      programs: [REMOTE],
      ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
    });
  }

  async call<A, R>(procedure: Procedure<A, R>, ...[args, options]: CallRest<A>): Promise<R> {
    const body = encode(procedure.args, args as A);
    const reply = await this.rpc.call(REMOTE, procedure.number, body, options);
    try {
      return decode(procedure.ret, reply);
    } catch (err) {
      if (!(err instanceof XdrError)) throw err;
      // the peer sent a reply we cannot read: the stream can no longer be trusted
      const e = new RpcError('protocol', `undecodable reply to ${procedure.name}: ${err.message}`, { cause: err });
      await this.rpc.close();
      throw e;
    }
  }

  /** Listen to one kind of event message. Undecodable events are dropped. Returns an unsubscribe function. */
  onEvent<M>(event: EventMessage<M>, listener: (message: M) => void): () => void {
    return this.rpc.onEvent((header, body) => {
      if (header.proc !== event.number) return;
      let message: M;
      try {
        message = decode(event.body, body);
      } catch {
        return;
      }
      listener(message);
    });
  }

  onClose(listener: CloseListener): () => void {
    return this.rpc.onClose(listener);
  }

  startKeepalive(options: KeepaliveOptions): void {
    this.rpc.startKeepalive(options);
  }

  get closed(): boolean {
    return this.rpc.closed;
  }

  close(): Promise<void> {
    return this.rpc.close();
  }
}
