// One end of an RPC socket, the part the client (RpcClient) and the server (ServerConnection) share: framing of
// incoming bytes, keepalive (answering PINGs, counting traffic, optionally probing), writes that stop once the
// connection is closed, and the single way it closes: fail() records the first reason, destroys the socket and
// tells the close listeners. Which messages mean what is left to the owner, through onMessage.
import type { Duplex } from 'node:stream';
import { RpcError } from './errors.js';
import { KEEPALIVE_PROGRAM, KeepaliveProber, KeepaliveProc, keepaliveMessage, type KeepaliveOptions } from './keepalive.js';
import { FrameDecoder, MessageType, type Message } from './message.js';

export interface PeerOptions {
  /** largest message accepted */
  maxMessage?: number;
  /** how a socket error and the peer's end of the stream are worded in the close reason */
  errorMessage: string;
  endMessage: string;
  /** every message except keepalive's, in order, while the connection is open */
  onMessage: (message: Message) => void;
  /** runs once when the connection ends, before the socket is destroyed and the close listeners run */
  onFail: (reason: RpcError) => void;
}

export class Peer {
  private readonly decoder: FrameDecoder;
  private readonly closeListeners = new Set<(reason: RpcError) => void>();
  private closeReason: RpcError | undefined;
  private prober: KeepaliveProber | undefined;
  private readonly socketClosed: Promise<void>;

  constructor(
    private readonly socket: Duplex,
    private readonly options: PeerOptions,
  ) {
    this.decoder = new FrameDecoder(options.maxMessage);
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new RpcError('transport', `${options.errorMessage}: ${err.message}`, { cause: err })));
    socket.on('end', () => this.fail(new RpcError('closed', options.endMessage)));
    socket.on('close', () => this.fail(new RpcError('closed', 'connection closed')));
    // the transport may hand the socket over paused (after reading the TLS confirmation)
    socket.resume();
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** why the connection ended, once it has */
  get reason(): RpcError | undefined {
    return this.closeReason;
  }

  /** Called once when the connection ends, with the reason (also for a local close). */
  onClose(listener: (reason: RpcError) => void): () => void {
    if (this.closeReason) {
      queueMicrotask(() => listener(this.closeReason!));
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Probe the peer with PINGs; `deadReason` words the failure when it stops answering. */
  startKeepalive(options: KeepaliveOptions, deadReason: (silentMs: number) => RpcError): void {
    if (this.closeReason || this.prober) return;
    this.prober = new KeepaliveProber(
      options,
      () => this.send(keepaliveMessage(KeepaliveProc.PING)),
      (silentMs) => this.fail(deadReason(silentMs)),
    );
    this.prober.start();
  }

  /** Write a frame; dropped silently once the connection is closed. */
  send(frame: Buffer): void {
    if (!this.closeReason && this.socket.writable) this.socket.write(frame);
  }

  /**
   * End the connection with RpcError 'closed' (`message`) after what was already written has been flushed.
   * Resolves when the socket is gone.
   */
  async close(message: string): Promise<void> {
    if (!this.closeReason) {
      this.fail(new RpcError('closed', message), false);
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

  /** End the connection for `reason` (only the first reason counts). */
  fail(reason: RpcError, destroy = true): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.prober?.stop();
    this.options.onFail(reason);
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
      this.prober?.touch(); // any message, PONG included, is a sign of life
      if (message.header.prog !== KEEPALIVE_PROGRAM) {
        this.options.onMessage(message);
      } else if (message.header.type === MessageType.MESSAGE && message.header.proc === KeepaliveProc.PING) {
        this.send(keepaliveMessage(KeepaliveProc.PONG));
      }
    }
  }
}
