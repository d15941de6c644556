// The server end of libvirt's RPC, for guestd: accepts sockets, decodes calls, dispatches them to programs by
// (program, version, procedure), and answers with a reply or an error reply. Calls of one connection run
// concurrently (a managed save that takes minutes must not hold up other calls or keepalive). Replies to the
// protocol faults mirror libvirtd's, which virsh renders: 39/7 "Cannot find program P version V",
// "unknown procedure: N", "Unable to decode message payload".
import type { Duplex } from 'node:stream';
import { LibvirtError, VirErr, VirFrom } from '../remote/error.js';
import { RpcError, XdrError } from './errors.js';
import { KEEPALIVE_PROGRAM, KeepaliveProber, KeepaliveProc, keepaliveMessage, type KeepaliveOptions } from './keepalive.js';
import { encodeMessage, FrameDecoder, MessageStatus, MessageType, type Message, type MessageHeader } from './message.js';
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
}

export class RpcServer<S> {
  private readonly programs = new Map<string, ProgramDispatch<S>>();
  readonly connections = new Set<ServerConnection<S>>();

  constructor(private readonly options: RpcServerOptions<S>) {}

  addProgram(program: ProgramDispatch<S>): this {
    this.programs.set(`${program.prog}/${program.vers}`, program);
    return this;
  }

  /** Serve one accepted socket (net.Socket or tls.TLSSocket). */
  accept(socket: Duplex): ServerConnection<S> {
    const connection = new ServerConnection<S>(socket, this.options, (h) => this.programs.get(`${h.prog}/${h.vers}`));
    this.connections.add(connection);
    connection.onClose(() => this.connections.delete(connection));
    return connection;
  }

  /** Close every connection (listening sockets belong to the daemon). */
  async close(): Promise<void> {
    await Promise.all([...this.connections].map((c) => c.close()));
  }
}

export class ServerConnection<S> {
  readonly state: S;
  private readonly decoder: FrameDecoder;
  private readonly aborter = new AbortController();
  private readonly closeListeners = new Set<(reason: RpcError) => void>();
  private closeReason: RpcError | undefined;
  private prober: KeepaliveProber | undefined;
  private inFlight = 0;
  private readonly socketClosed: Promise<void>;

  constructor(
    readonly socket: Duplex,
    private readonly options: RpcServerOptions<S>,
    private readonly findProgram: (h: MessageHeader) => ProgramDispatch<S> | undefined,
  ) {
    this.decoder = new FrameDecoder(options.maxMessage);
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new RpcError('transport', `client connection error: ${err.message}`, { cause: err })));
    socket.on('end', () => this.fail(new RpcError('closed', 'client closed the connection')));
    socket.on('close', () => this.fail(new RpcError('closed', 'connection closed')));
    this.state = options.createState(this);
    if (options.keepalive) {
      this.prober = new KeepaliveProber(
        options.keepalive,
        () => this.write(keepaliveMessage(KeepaliveProc.PING)),
        () => this.fail(new RpcError('keepalive', 'client stopped answering keepalive')),
      );
      this.prober.start();
    }
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** calls being handled right now */
  get activeCalls(): number {
    return this.inFlight;
  }

  /** Send an event (type MESSAGE, serial 0) to this client. Dropped silently once the connection is closed. */
  sendMessage(prog: number, vers: number, proc: number, body: Buffer): void {
    this.write(encodeMessage({ prog, vers, proc, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK }, body));
  }

  onClose(listener: (reason: RpcError) => void): () => void {
    if (this.closeReason) {
      queueMicrotask(() => listener(this.closeReason!));
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** End the connection after what was already written has been flushed. */
  async close(): Promise<void> {
    if (!this.closeReason) {
      this.fail(new RpcError('closed', 'connection closed by the server'), false);
      this.socket.end();
      const forced = setTimeout(() => this.socket.destroy(), 1000);
      forced.unref();
      await this.socketClosed;
      clearTimeout(forced);
      return;
    }
    this.socket.destroy();
    await this.socketClosed;
  }

  private write(frame: Buffer): void {
    if (!this.closeReason && this.socket.writable) this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    if (this.closeReason) return;
    let messages: Message[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err as RpcError);
      return;
    }
    for (const message of messages) {
      if (this.closeReason) return;
      this.prober?.touch();
      this.dispatch(message);
    }
  }

  private dispatch({ header, body }: Message): void {
    if (header.prog === KEEPALIVE_PROGRAM) {
      if (header.type === MessageType.MESSAGE && header.proc === KeepaliveProc.PING) {
        this.write(keepaliveMessage(KeepaliveProc.PONG));
      }
      return;
    }
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
      this.write(encodeMessage({ ...header, type: MessageType.REPLY, status: MessageStatus.OK }, reply));
    } catch (err) {
      if (err instanceof XdrError) {
        this.replyError(header, rpcError('Unable to decode message payload'));
      } else {
        if (!(err instanceof LibvirtError)) this.options.onInternalError?.(err, header);
        this.replyError(header, err);
      }
    } finally {
      this.inFlight--;
    }
  }

  private replyError(header: MessageHeader, err: unknown): void {
    let body: Buffer;
    try {
      body = encode(wireErrorType, wireErrorFrom(err));
    } catch {
      body = encode(wireErrorType, wireErrorFrom(new Error('error message could not be encoded')));
    }
    this.write(encodeMessage({ ...header, type: MessageType.REPLY, status: MessageStatus.ERROR }, body));
  }

  private fail(reason: RpcError, destroy = true): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.prober?.stop();
    this.aborter.abort(reason);
    if (destroy) this.socket.destroy();
    for (const listener of this.closeListeners) {
      try {
        listener(reason);
      } catch {
        // ignore: closing must complete
      }
    }
    this.closeListeners.clear();
  }
}

const rpcError = (message: string): LibvirtError => new LibvirtError(VirErr.RPC, VirFrom.RPC, message);
