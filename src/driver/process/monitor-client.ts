// The driver's side of a guest's monitor socket (see src/guest/protocol.ts).
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { CommandName, Commands, ErrorClass, Events, Greeting } from '../../guest/protocol.js';

export class MonitorCommandError extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    message: string,
  ) {
    super(message);
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export interface MonitorClientEvents {
  event: [name: keyof Events, data: unknown];
  close: [];
}

export class MonitorClient extends EventEmitter<MonitorClientEvents> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly greeting: Greeting['greeting'],
  ) {
    super();
  }

  /** connect and read the greeting; rejects after `timeoutMs` */
  static connect(path: string, timeoutMs: number): Promise<MonitorClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const lines = createInterface({ input: socket });
      let client: MonitorClient | null = null;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`monitor ${path} did not greet within ${timeoutMs} ms`));
      }, timeoutMs);
      // a guest that dies with our request unread resets the connection: that ends this monitor, never the daemon
      socket.on('error', (err) => {
        clearTimeout(timer);
        if (!client) reject(err);
        socket.destroy();
      });
      lines.on('error', () => socket.destroy()); // readline re-emits the socket's errors
      socket.on('close', () => {
        clearTimeout(timer);
        if (!client) reject(new Error(`monitor ${path} closed before greeting`));
        else client.onClose();
      });
      lines.on('line', (line) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        if (!client) {
          if (!msg.greeting) return;
          clearTimeout(timer);
          client = new MonitorClient(socket, msg.greeting as Greeting['greeting']);
          resolve(client);
          return;
        }
        client.onMessage(msg);
      });
    });
  }

  private onMessage(msg: Record<string, unknown>): void {
    if (typeof msg.event === 'string') {
      this.emit('event', msg.event as keyof Events, msg.data);
      return;
    }
    const p = this.pending.get(msg.id as number);
    if (!p) return;
    this.pending.delete(msg.id as number);
    if (msg.error) {
      const e = msg.error as { class: ErrorClass; desc: string };
      p.reject(new MonitorCommandError(e.class, e.desc));
    } else p.resolve(msg.return);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new MonitorCommandError('GenericError', 'the guest monitor closed'));
    this.pending.clear();
    this.emit('close');
  }

  call<C extends CommandName>(command: C, args?: Commands[C]['args']): Promise<Commands[C]['reply']> {
    if (this.closed) return Promise.reject(new MonitorCommandError('GenericError', 'the guest monitor is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ id, execute: command, arguments: args ?? {} })}\n`);
    });
  }

  /** drop the connection; the guest keeps running */
  close(): void {
    this.socket.destroy();
    this.onClose();
  }
}
