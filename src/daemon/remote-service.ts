// The REMOTE program served over src/rpc's server core: per-client state, the read-only and not-yet-open guards
// (both decided from the header, before any argument is decoded), the handlers, and lifecycle events delivered to
// every client that registered a callback.
import type net from 'node:net';
import type { Driver } from '../driver/driver.js';
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import { buildRemoteDispatch, readOnlyGuard, sendRemoteEvent, type RemoteHandlers } from '../remote/dispatch.js';
import { procedureByNumber } from '../remote/procedures.js';
import { DomainEventId } from '../remote/enums.js';
import { REMOTE_PROGRAM } from '../remote/protocol.js';
import { RpcServer, type ClientLimits, type ServerConnection } from '../rpc/server.js';
import { newClientState, type ClientState } from './client-state.js';
import type { RpcService } from './daemon.js';
import type { Logger } from './log.js';
import { BEFORE_OPEN, createHandlers, wireDomain, type Handlers } from './remote-handlers.js';

export interface RemoteServiceOptions {
  defaultUri?: string;
  limits?: Partial<ClientLimits>;
  /** connections gave back bytes of input (see RpcServerOptions) */
  onInputReleased?: (bytes: number) => void;
}

/** a flood of refused connections is logged once per this period, with the count */
const REFUSAL_LOG_MS = 10_000;

export function createRemoteService(driver: Driver, log: Logger, options: RemoteServiceOptions = {}): RpcService {
  const readonlySockets = new WeakSet<object>();
  let refused = 0;
  let refusalLogged = 0;
  const guardReadOnly = readOnlyGuard<ClientState>((c) => c.state.readonly);
  const server = new RpcServer<ClientState>({
    createState: (connection) => newClientState(readonlySockets.has(connection.socket)),
    authorize: (connection, header) => {
      const denied = guardReadOnly(connection, header);
      if (denied) return denied;
      if (header.prog !== REMOTE_PROGRAM || connection.state.opened) return undefined;
      const info = procedureByNumber(header.proc);
      // a number outside the program is the server core's to answer ("unknown procedure")
      if (!info || BEFORE_OPEN.has(info.name)) return undefined;
      return new LibvirtError(VirErr.INTERNAL_ERROR, VirFrom.RPC, 'internal error: hypervisor connection not open');
    },
    keepalive: { intervalMs: 5000, count: 5 },
    onInternalError: (error, header) =>
      log.error(`procedure ${header.proc} failed unexpectedly: ${(error as Error)?.stack ?? String(error)}`),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.onInputReleased ? { onInputReleased: options.onInputReleased } : {}),
    onRefused: () => {
      refused++;
      if (Date.now() - refusalLogged < REFUSAL_LOG_MS) return;
      const { maxClients, maxQueuedClients } = server.limits;
      log.warn(
        `too many clients: ${refused} connection(s) closed unserved, ${maxClients} served and ${maxQueuedClients} ` +
          'waiting already (max_clients, max_queued_clients in guestd.conf)',
      );
      refused = 0;
      refusalLogged = Date.now();
    },
  });
  const handlers = createHandlers({
    driver,
    defaultUri: options.defaultUri ?? 'guest:///system',
    log: (line) => log.info(line),
  });
  server.addProgram(buildRemoteDispatch(adapt(handlers)));

  /** every registered callback of `eventID` that covers the domain `uuid`, with its connection */
  const callbacksFor = function* (eventID: number, uuid: string) {
    for (const connection of server.connections)
      for (const [callbackID, cb] of connection.state.callbacks)
        if (cb.eventID === eventID && (cb.uuid === null || cb.uuid === uuid)) yield { connection, callbackID };
  };
  const unsubscribeReboot = driver.onReboot?.((domain) => {
    for (const { connection, callbackID } of callbacksFor(DomainEventId.REBOOT, domain.uuid))
      sendRemoteEvent(connection, 'DOMAIN_EVENT_CALLBACK_REBOOT', { callbackID, msg: { dom: wireDomain(domain) } });
  });
  const unsubscribe = driver.onEvent((event) => {
    for (const { connection, callbackID } of callbacksFor(DomainEventId.LIFECYCLE, event.domain.uuid))
      sendRemoteEvent(connection, 'DOMAIN_EVENT_CALLBACK_LIFECYCLE', {
        callbackID,
        msg: { dom: wireDomain(event.domain), event: event.event, detail: event.detail },
      });
  });

  return {
    accept(socket: net.Socket, access) {
      if (access.readonly) readonlySockets.add(socket);
      server.accept(socket, (connection: ServerConnection<ClientState>) =>
        connection.onClose((reason) => {
          log.debug(`client on the ${access.role} socket gone: ${reason.message}`);
          const { closeCallbacks } = connection.state;
          for (const callback of closeCallbacks.values())
            callback().catch((err: unknown) => log.error(`a close callback of a client failed: ${(err as Error).message}`));
          closeCallbacks.clear();
        }),
      );
    },
    clientCount: () => server.connections.size + server.queued,
    async close() {
      unsubscribe();
      unsubscribeReboot?.();
      await server.close();
    },
  };
}

/** Our handlers take the client state; the dispatch table passes the call context. */
function adapt(handlers: Handlers): RemoteHandlers<ClientState> {
  const out: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const h = handler as (args: unknown, client: ClientState) => unknown;
    out[name] = (args: unknown, ctx: { connection: ServerConnection<ClientState> }) => h(args, ctx.connection.state);
  }
  return out as RemoteHandlers<ClientState>;
}
