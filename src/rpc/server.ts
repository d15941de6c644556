// The server end of libvirt's RPC, for guestd: accepts sockets, decodes calls, dispatches them to programs by
// (program, version, procedure), and answers with a reply or an error reply. Calls of one connection run
// concurrently (a managed save that takes minutes must not hold up other calls or keepalive). Replies to the
// protocol faults mirror libvirtd's, which virsh renders: 39/7 "Cannot find program P version V",
// "unknown procedure: N", "Unable to decode message payload".
//
// libvirtd's limits hold here with its defaults: at most max_clients connections are served; the next
// max_queued_clients wait, unread, for a free place, and any more are closed; each connection has at most
// max_client_requests calls running, its further messages wait unread. Input held for all connections together
// stays within one budget (input-budget.ts), and a connection that does not read its replies is not read either.
import type { Duplex } from 'node:stream';
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import { RpcError, XdrError } from './errors.js';
import type { KeepaliveOptions } from './keepalive.js';
import { InputBudget } from './input-budget.js';
import { encodeMessage, MESSAGE_MAX, LEN_SIZE, MessageStatus, MessageType, type Message, type MessageHeader } from './message.js';
import { Peer } from './peer.js';
import { wireErrorFrom, wireErrorType } from './wire-error.js';
import { encode } from './xdr-types.js';

/** What a handler knows about the call it serves. */
export interface CallContext<S> {
  connection: ServerConnection<S>;
  header: MessageHeader;
  /** aborted when the connection closes, so long work can stop early */
  signal: AbortSignal;
}

/** Handles one procedure: raw args in, raw reply body out. Throw LibvirtError for an error reply. */
export type RawHandler<S> = (body: Buffer, ctx: CallContext<S>) => Promise<Buffer> | Buffer;

/** A program's procedures. `lookup` returns undefined for a procedure number the program does not have. */
export interface ProgramDispatch<S> {
  prog: number;
  vers: number;
  lookup(proc: number): RawHandler<S> | undefined;
}

export interface ClientLimits {
  /** connections served at once, over all sockets (libvirtd's max_clients) */
  maxClients: number;
  /** connections beyond maxClients that wait, unread, for a free place; more are closed (max_queued_clients) */
  maxQueuedClients: number;
  /** calls of one connection handled at once; its further messages wait unread (max_client_requests) */
  maxClientRequests: number;
  /** bytes of incoming messages held for all connections together; at least one message of the largest size */
  maxBufferedInput: number;
}

/** libvirtd's defaults; the input budget holds two messages of libvirt's largest size */
export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimits> = Object.freeze({
  maxClients: 5000,
  maxQueuedClients: 1000,
  maxClientRequests: 5,
  maxBufferedInput: 2 * (MESSAGE_MAX + LEN_SIZE),
});

export interface RpcServerOptions<S> {
  /** fresh per-connection state the daemon attaches to (opened, readonly, registered callbacks, …) */
  createState: (connection: ServerConnection<S>) => S;
  /**
   * Called for every CALL before its arguments are decoded; return (or throw) a LibvirtError to refuse it,
   * e.g. a mutating procedure on the read-only socket.
   */
  authorize?: (connection: ServerConnection<S>, header: MessageHeader) => LibvirtError | undefined;
  /** probe clients with PINGs and drop dead ones (libvirtd: keepalive_interval 5, keepalive_count 5) */
  keepalive?: KeepaliveOptions;
  maxMessage?: number;
  /** a handler threw something that is not a LibvirtError (a bug): log it */
  onInternalError?: (err: unknown, header: MessageHeader) => void;
  limits?: Partial<ClientLimits>;
  /** a connection was closed unserved: maxClients served and maxQueuedClients waiting already */
  onRefused?: () => void;
  /** connections gave back bytes of input they held (complete messages, or closed connections) */
  onInputReleased?: (bytes: number) => void;
}

export class RpcServer<S> {
  private readonly programs = new Map<string, ProgramDispatch<S>>();
  readonly connections = new Set<ServerConnection<S>>();
  readonly limits: Readonly<ClientLimits>;
  readonly budget: InputBudget;
  /** accepted sockets waiting for a place, with what to call once served */
  private readonly waiting = new Map<Duplex, (connection: ServerConnection<S>) => void>();

  constructor(private readonly options: RpcServerOptions<S>) {
    this.limits = { ...DEFAULT_CLIENT_LIMITS, ...options.limits };
    this.budget = new InputBudget(this.limits.maxBufferedInput, options.onInputReleased);
  }

  addProgram(program: ProgramDispatch<S>): this {
    this.programs.set(`${program.prog}/${program.vers}`, program);
    return this;
  }

  /** connections accepted but waiting for a place (max_clients reached) */
  get queued(): number {
    return this.waiting.size;
  }

  /**
   * Serve one accepted socket (net.Socket or tls.TLSSocket), now or once a place is free; `onServed` runs when it
   * is. Beyond the waiting line the socket is closed. Accept sockets paused (pauseOnConnect) so that a waiting
   * one is not read at all.
   */
  accept(socket: Duplex, onServed?: (connection: ServerConnection<S>) => void): void {
    if (this.connections.size < this.limits.maxClients) {
      this.serve(socket, onServed);
      return;
    }
    if (this.waiting.size >= this.limits.maxQueuedClients) {
      socket.destroy();
      this.options.onRefused?.();
      return;
    }
    socket.pause();
    this.waiting.set(socket, onServed ?? (() => undefined));
    socket.once('close', () => this.waiting.delete(socket));
    // until served, a socket error is seen only through 'close'
    socket.on('error', () => undefined);
  }

  /** Close every connection (listening sockets belong to the daemon). */
  async close(): Promise<void> {
    for (const socket of this.waiting.keys()) socket.destroy();
    this.waiting.clear();
    await Promise.all([...this.connections].map((c) => c.close()));
  }

  private serve(socket: Duplex, onServed?: (connection: ServerConnection<S>) => void): void {
    const connection = new ServerConnection<S>(socket, this.options, this.limits, this.budget, (h) =>
      this.programs.get(`${h.prog}/${h.vers}`),
    );
    this.connections.add(connection);
    connection.onClose(() => {
      this.connections.delete(connection);
      this.serveNext();
    });
    onServed?.(connection);
  }

  private serveNext(): void {
    for (const [socket, onServed] of this.waiting) {
      if (this.connections.size >= this.limits.maxClients) return;
      this.waiting.delete(socket);
      if (!socket.destroyed) this.serve(socket, onServed);
    }
  }
}

export class ServerConnection<S> {
  readonly state: S;
  private readonly peer: Peer;
  private readonly aborter = new AbortController();
  private inFlight = 0;

  constructor(
    readonly socket: Duplex,
    private readonly options: RpcServerOptions<S>,
    limits: Readonly<ClientLimits>,
    budget: InputBudget,
    private readonly findProgram: (h: MessageHeader) => ProgramDispatch<S> | undefined,
  ) {
    this.peer = new Peer(socket, {
      maxMessage: options.maxMessage,
      errorMessage: 'client connection error',
      endMessage: 'client closed the connection',
      onMessage: (message) => this.dispatch(message),
      onFail: (reason) => this.aborter.abort(reason),
      flow: { budget, ready: () => this.inFlight < limits.maxClientRequests, pauseOnFullOutput: true },
    });
    this.state = options.createState(this);
    if (options.keepalive) {
      this.peer.startKeepalive(options.keepalive, () => new RpcError('keepalive', 'client stopped answering keepalive'));
    }
  }

  get closed(): boolean {
    return this.peer.closed;
  }

  /** calls being handled right now */
  get activeCalls(): number {
    return this.inFlight;
  }

  /** Send an event (type MESSAGE, serial 0) to this client. Dropped silently once the connection is closed. */
  sendMessage(prog: number, vers: number, proc: number, body: Buffer): void {
    this.peer.send(encodeMessage({ prog, vers, proc, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK }, body));
  }

  onClose(listener: (reason: RpcError) => void): () => void {
    return this.peer.onClose(listener);
  }

  /** End the connection after what was already written has been flushed. */
  close(): Promise<void> {
    return this.peer.close('connection closed by the server');
  }

  /** a message of a program other than keepalive (the peer answers PINGs) */
  private dispatch({ header, body }: Message): void {
    if (header.type !== MessageType.CALL) return; // MESSAGE/STREAM from a client: nothing we serve, ignored
    const program = this.findProgram(header);
    if (!program) {
      this.replyError(header, rpcError(`Cannot find program ${header.prog} version ${header.vers}`));
      return;
    }
    const handler = program.lookup(header.proc);
    if (!handler) {
      this.replyError(header, rpcError(`unknown procedure: ${header.proc}`));
      return;
    }
    void this.run(handler, header, body);
  }

  private async run(handler: RawHandler<S>, header: MessageHeader, body: Buffer): Promise<void> {
    this.inFlight++;
    try {
      const refusal = this.options.authorize?.(this, header);
      if (refusal) throw refusal;
      const reply = await handler(body, { connection: this, header, signal: this.aborter.signal });
      this.peer.send(encodeMessage({ ...header, type: MessageType.REPLY, status: MessageStatus.OK }, reply));
    } catch (err) {
      if (err instanceof XdrError) {
        this.replyError(header, rpcError('Unable to decode message payload'));
      } else {
        if (!(err instanceof LibvirtError)) this.options.onInternalError?.(err, header);
        this.replyError(header, err);
      }
    } finally {
      this.inFlight--;
      this.peer.drain();
    }
  }

  private replyError(header: MessageHeader, err: unknown): void {
    let body: Buffer;
    try {
      body = encode(wireErrorType, wireErrorFrom(err));
    } catch {
      body = encode(wireErrorType, wireErrorFrom(new Error('error message could not be encoded')));
    }
    this.peer.send(encodeMessage({ ...header, type: MessageType.REPLY, status: MessageStatus.ERROR }, body));
  }
}

const rpcError = (message: string): LibvirtError => new LibvirtError(VirErr.RPC, VirFrom.RPC, message);
