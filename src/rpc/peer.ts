// One end of an RPC socket, the part the client (RpcClient) and the server (ServerConnection) share: framing of
// incoming bytes, keepalive (answering PINGs, counting traffic, optionally probing), writes that stop once the
// connection is closed, and the single way it closes: fail() records the first reason, destroys the socket and
// tells the close listeners. Which messages mean what is left to the owner, through onMessage.
//
// Flow control (the server's): messages wait in a queue until the owner is ready for another one, and the socket
// is not read while (a) messages wait, (b) the input budget is used up, or (c) our replies wait for the peer to
// read them. So a client can make the server hold only what it sent and what it may send, never more.
import type { Duplex } from 'node:stream';
import { RpcError } from './errors.js';
import type { InputAccount, InputBudget } from './input-budget.js';
import { KEEPALIVE_PROGRAM, KeepaliveProber, KeepaliveProc, keepaliveMessage, type KeepaliveOptions } from './keepalive.js';
import { FrameDecoder, HEADER_SIZE, LEN_SIZE, MessageType, type Message } from './message.js';

interface PeerFlow {
  /** bytes of messages not yet received whole, or not yet handed over, count against this budget */
  budget?: InputBudget;
  /** whether the owner takes another message now (the server: fewer calls running than its per-client limit) */
  ready?: () => boolean;
  /**
   * stop reading while our writes wait for the peer to read them. Server side only: a client must always read, or
   * a server doing the same would deadlock with it.
   */
  pauseOnFullOutput?: boolean;
}

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
  flow?: PeerFlow;
}

/** why the socket is not being read */
type Pause = 'busy' | 'budget' | 'output';

export class Peer {
  private readonly decoder: FrameDecoder;
  private readonly closeListeners = new Set<(reason: RpcError) => void>();
  private closeReason: RpcError | undefined;
  private prober: KeepaliveProber | undefined;
  private readonly socketClosed: Promise<void>;
  private readonly queue: Message[] = [];
  private queuedBytes = 0;
  private readonly pauses = new Set<Pause>();
  private readonly account: InputAccount | undefined;

  constructor(
    private readonly socket: Duplex,
    private readonly options: PeerOptions,
  ) {
    this.decoder = new FrameDecoder(options.maxMessage);
    this.account = options.flow?.budget?.open(() => this.unpause('budget'));
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new RpcError('transport', `${options.errorMessage}: ${err.message}`, { cause: err })));
    socket.on('end', () => this.fail(new RpcError('closed', options.endMessage)));
    socket.on('close', () => this.fail(new RpcError('closed', 'connection closed')));
    // the socket may come paused (after the TLS confirmation, or accepted with pauseOnConnect)
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
      Date.now,
      // not reading because our own calls are still running: the peer's PONGs wait unread, it is not dead
      () => this.pauses.has('busy'),
    );
    this.prober.start();
  }

  /** Write a frame; dropped silently once the connection is closed. */
  send(frame: Buffer): void {
    if (this.closeReason || !this.socket.writable) return;
    const flushed = this.socket.write(frame);
    if (!flushed && this.options.flow?.pauseOnFullOutput && !this.pauses.has('output')) {
      this.pause('output');
      this.socket.once('drain', () => this.unpause('output'));
    }
  }

  /** The owner is ready for more: hand over waiting messages and read again when nothing waits. */
  drain(): void {
    this.deliver();
    this.updateFlow();
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
    this.decoder.clear();
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.account?.close();
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
      this.prober?.touch(); // any message, PONG included, is a sign of life
      if (message.header.prog !== KEEPALIVE_PROGRAM) {
        this.queue.push(message);
        this.queuedBytes += LEN_SIZE + HEADER_SIZE + message.body.length;
      } else if (message.header.type === MessageType.MESSAGE && message.header.proc === KeepaliveProc.PING) {
        this.send(keepaliveMessage(KeepaliveProc.PONG));
      }
    }
    this.drain();
  }

  private deliver(): void {
    const ready = this.options.flow?.ready;
    while (this.queue.length > 0 && !this.closeReason && (!ready || ready())) {
      const message = this.queue.shift()!;
      this.queuedBytes -= LEN_SIZE + HEADER_SIZE + message.body.length;
      this.options.onMessage(message);
    }
  }

  private updateFlow(): void {
    if (this.closeReason) return;
    if (this.queue.length > 0) this.pause('busy');
    else this.unpause('busy');
    if (this.account) {
      if (this.account.hold(this.decoder.pending + this.queuedBytes)) this.unpause('budget');
      else this.pause('budget');
    }
  }

  private pause(why: Pause): void {
    if (this.pauses.has(why)) return;
    this.pauses.add(why);
    this.socket.pause();
  }

  private unpause(why: Pause): void {
    if (!this.pauses.delete(why)) return;
    // silence while we were not reading does not count against the peer
    if (why === 'busy') this.prober?.touch();
    if (this.pauses.size === 0 && !this.closeReason) this.socket.resume();
  }
}
