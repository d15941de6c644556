// The runtime's side of the monitor socket: JSON lines, one greeting per connection, replies by id, broadcast
// events. Any number of clients (a restarted daemon connects again while an old connection may linger). A broken
// connection only ever ends that connection: the guest must never die because its controller went away.
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { ErrorClass, Events, Greeting } from './protocol.js';

export class MonitorError extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    message: string,
  ) {
    super(message);
  }
}

export type Handler = (command: string, args: Record<string, unknown>) => Promise<unknown>;

export class MonitorServer {
  private readonly server: Server;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly greeting: () => Greeting,
    private readonly handle: Handler,
    private readonly log: (message: string) => void,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<void> {
    try {
      unlinkSync(this.path); // a stale socket from a guest that died
    } catch {
      /* none */
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // e.g. EMFILE on accept: the listener stays, the guest runs on
    this.server.on('error', (err) => this.log(`monitor: ${err.message}`));
    chmodSync(this.path, 0o600);
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    this.send(socket, this.greeting());
    const lines = createInterface({ input: socket });
    // readline re-emits the socket's errors (ECONNRESET from a peer that closed with our greeting unread)
    lines.on('error', () => socket.destroy());
    lines.on('line', (line) => {
      if (line.trim() === '') return;
      let req: { id?: unknown; execute?: unknown; arguments?: unknown };
      try {
        req = JSON.parse(line) as typeof req;
      } catch {
        this.send(socket, { id: null, error: { class: 'InvalidArgument', desc: 'request is not JSON' } });
        return;
      }
      const id = req.id ?? null;
      if (typeof req.execute !== 'string') {
        this.send(socket, { id, error: { class: 'InvalidArgument', desc: 'missing "execute"' } });
        return;
      }
      const args = (req.arguments && typeof req.arguments === 'object' ? req.arguments : {}) as Record<string, unknown>;
      this.handle(req.execute, args).then(
        (ret) => this.send(socket, { id, return: ret ?? {} }),
        (err: unknown) =>
          this.send(socket, {
            id,
            error: {
              class: err instanceof MonitorError ? err.errorClass : 'GenericError',
              desc: err instanceof Error ? err.message : String(err),
            },
          }),
      );
    });
  }

  private send(socket: Socket, msg: unknown): Promise<void> {
    return new Promise((resolve) => {
      if (socket.destroyed || !socket.writable) return resolve();
      socket.write(`${JSON.stringify(msg)}\n`, () => resolve());
    });
  }

  /** send an event to every client; resolves when written (or the client is gone) */
  async broadcast<E extends keyof Events>(event: E, data: Events[E]): Promise<void> {
    await Promise.all([...this.clients].map((s) => this.send(s, { event, data })));
  }

  closeSync(): void {
    for (const s of this.clients) s.destroy();
    this.server.close();
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
