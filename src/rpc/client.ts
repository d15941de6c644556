// The client end of a libvirt RPC connection: serial numbers, the table of calls waiting for replies, error
// replies as LibvirtError, keepalive (answering PINGs, optionally probing), and events. Every failure rejects all
// waiting calls with a typed error and closes the socket; nothing is left pending and nothing rejects unobserved.
import type { Duplex } from 'node:stream';
import { RpcError, XdrError } from './errors.js';
import type { KeepaliveOptions } from './keepalive.js';
import { encodeMessage, MessageStatus, MessageType, type Message, type MessageHeader } from './message.js';
import { Peer } from './peer.js';
import { libvirtErrorFromWire, wireErrorType } from './wire-error.js';
import { decode } from './xdr-types.js';

export interface ProgramId {
  prog: number;
  vers: number;
}

export interface CallOptions {
  /**
   * reject with RpcError 'timeout' and close the connection when no reply came in time (default: the client's;
   * 0 = wait as long as the connection lives, for calls known to be long such as a managed save)
   */
  timeoutMs?: number;
  /** stop waiting: rejects with RpcError 'aborted'; the connection stays usable and a late reply is dropped */
  signal?: AbortSignal;
}

export interface RpcClientOptions {
  /** programs this client calls and accepts events from (keepalive is always accepted) */
  programs: ProgramId[];
  /** default per-call timeout; none when absent (libvirt has none: a managed save may take many minutes) */
  callTimeoutMs?: number;
  /** largest message accepted */
  maxMessage?: number;
}

export type EventListener = (header: MessageHeader, body: Buffer) => void;
export type CloseListener = (reason: RpcError) => void;

interface Pending {
  header: MessageHeader;
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

export class RpcClient {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  /** serials whose caller gave up: their late replies are dropped, not a protocol error */
  private readonly abandoned = new Set<number>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly peer: Peer;

  constructor(
    private readonly socket: Duplex,
    private readonly options: RpcClientOptions,
  ) {
    this.peer = new Peer(socket, {
      maxMessage: options.maxMessage,
      errorMessage: 'connection error',
      endMessage: 'connection closed by the peer',
      onMessage: (message) => this.dispatch(message),
      onFail: (reason) => {
        for (const serial of [...this.pending.keys()]) this.settle(serial)?.reject(reason);
      },
    });
  }

  get closed(): boolean {
    return this.peer.closed;
  }

  /** why the connection ended, once it has */
  get reason(): RpcError | undefined {
    return this.peer.reason;
  }

  /** Send a CALL and resolve with the reply body; an error reply rejects with LibvirtError. */
  call(program: ProgramId, proc: number, body: Buffer, options: CallOptions = {}): Promise<Buffer> {
    if (this.peer.reason) return Promise.reject(this.peer.reason);
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    const header: MessageHeader = {
      prog: program.prog,
      vers: program.vers,
      proc,
      type: MessageType.CALL,
      serial: this.serial,
      status: MessageStatus.OK,
    };
    this.serial = (this.serial + 1) >>> 0;
    let frame: Buffer;
    try {
      frame = encodeMessage(header, body);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        this.settle(header.serial);
        this.abandoned.add(header.serial);
        reject(abortError(options.signal!));
      };
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(header.serial, { header, resolve, reject, cleanup });
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => {
          this.peer.fail(new RpcError('timeout', `no reply to procedure ${proc} within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.write(frame);
    });
  }

  /** Events (type MESSAGE) of the client's programs. Returns a function that removes the listener. */
  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called once when the connection ends, with the reason (also for a local close). */
  onClose(listener: CloseListener): () => void {
    return this.peer.onClose(listener);
  }

  /** Probe the peer with PINGs (only after it said it supports the keepalive program). */
  startKeepalive(options: KeepaliveOptions): void {
    this.peer.startKeepalive(
      options,
      (silentMs) =>
        new RpcError('keepalive', `connection closed due to keepalive timeout (no answer for ${Math.round(silentMs / 1000)} s)`),
    );
  }

  /** Close the socket; waiting calls reject with RpcError 'closed'. Resolves when the socket is gone. */
  close(): Promise<void> {
    return this.peer.close('connection closed by the client');
  }

  private settle(serial: number): Pending | undefined {
    const p = this.pending.get(serial);
    if (p) {
      this.pending.delete(serial);
      p.cleanup();
    }
    return p;
  }

  /** a message of a program other than keepalive (the peer answers PINGs) */
  private dispatch({ header, body }: Message): void {
    if (!this.options.programs.some((p) => p.prog === header.prog && p.vers === header.vers)) {
      this.peer.fail(
        new RpcError('protocol', `unexpected message for program 0x${header.prog.toString(16)} version ${header.vers}`),
      );
      return;
    }
    if (header.type === MessageType.MESSAGE) {
      for (const listener of this.eventListeners) {
        try {
          listener(header, body);
        } catch {
          // a listener's bug must not take the connection down
        }
      }
      return;
    }
    if (header.type !== MessageType.REPLY) {
      this.peer.fail(new RpcError('protocol', `unexpected message type ${header.type} (procedure ${header.proc})`));
      return;
    }
    if (this.abandoned.delete(header.serial)) return;
    const call = this.pending.get(header.serial);
    if (!call) {
      this.peer.fail(new RpcError('protocol', `reply with unknown serial ${header.serial} (procedure ${header.proc})`));
      return;
    }
    if (call.header.prog !== header.prog || call.header.proc !== header.proc) {
      this.peer.fail(
        new RpcError('protocol', `reply for serial ${header.serial} is for procedure ${header.proc}, expected ${call.header.proc}`),
      );
      return;
    }
    this.settle(header.serial);
    if (header.status === MessageStatus.OK) {
      call.resolve(body);
    } else if (header.status === MessageStatus.ERROR) {
      try {
        call.reject(libvirtErrorFromWire(decode(wireErrorType, body)));
      } catch (err) {
        const e = err instanceof XdrError ? err : new XdrError(String(err));
        call.reject(new RpcError('protocol', `undecodable error reply to procedure ${header.proc}: ${e.message}`, { cause: e }));
      }
    } else {
      call.reject(new RpcError('protocol', `unsupported reply status ${header.status} (procedure ${header.proc})`));
    }
  }
}

function abortError(signal: AbortSignal): RpcError {
  const why = signal.reason instanceof Error ? signal.reason.message : 'the call was aborted';
  return new RpcError('aborted', why, { cause: signal.reason });
}

