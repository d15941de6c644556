// The server side of the REMOTE program: a dispatch table for src/rpc's RpcServer built from the same
// description as the client. A handler gets decoded args and returns the ret value; errors it throws become
// error replies. Described procedures without a handler, and table procedures without a description, answer
// NO_SUPPORT (3) so that virsh's fallbacks work (virsh-wire.md §6); numbers outside the table are left to the
// server core ("unknown procedure: N").
import type { MessageHeader } from '../rpc/message.js';
import type { CallContext, ProgramDispatch, RawHandler, ServerConnection } from '../rpc/server.js';
import { decode, encode } from '../rpc/xdr-types.js';
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import { isReadOnlyProcedure, procedureByNumber } from './procedures.js';
import { EVENT, PROC, REMOTE_PROGRAM, REMOTE_VERSION, type ArgsOf, type EventName, type EventOf, type ProcName, type RetOf } from './protocol.js';

export type RemoteHandler<S, K extends ProcName> = (args: ArgsOf<K>, ctx: CallContext<S>) => Promise<RetOf<K>> | RetOf<K>;
export type RemoteHandlers<S> = { [K in ProcName]?: RemoteHandler<S, K> };

/** NO_SUPPORT for a procedure (its name in the procedure table), as libvirt words it for the public API behind it */
export function notSupported(procName: string, detail?: string): LibvirtError {
  return new LibvirtError(
    VirErr.NO_SUPPORT,
    VirFrom.REMOTE,
    `this function is not supported by the connection driver: ${apiName(procName)}${detail ? `: ${detail}` : ''}`,
  );
}

/** Build the REMOTE program's dispatch table for RpcServer.addProgram(). */
export function buildRemoteDispatch<S>(handlers: RemoteHandlers<S>): ProgramDispatch<S> {
  const table = new Map<number, RawHandler<S>>();
  for (const [name, p] of Object.entries(PROC)) {
    const handler = handlers[name as ProcName] as RemoteHandler<S, ProcName> | undefined;
    if (!handler) continue;
    table.set(p.number, async (body, ctx) => {
      // decode failures surface as XdrError, which the server core answers "Unable to decode message payload"
      const args = decode(p.args as never, body) as ArgsOf<ProcName>;
      const ret = await handler(args, ctx);
      try {
        return encode(p.ret as never, ret as never);
      } catch (err) {
        // our own handler returned a value that does not fit: a bug, not the client's fault
        throw new LibvirtError(VirErr.INTERNAL_ERROR, VirFrom.RPC, `internal error: reply to ${name}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    });
  }
  return {
    prog: REMOTE_PROGRAM,
    vers: REMOTE_VERSION,
    lookup(proc) {
      const handler = table.get(proc);
      if (handler) return handler;
      const info = procedureByNumber(proc);
      if (!info) return undefined;
      return () => {
        throw notSupported(info.name);
      };
    },
  };
}

/**
 * An `authorize` hook for RpcServer that refuses mutating REMOTE procedures on read-only connections before
 * their arguments are decoded, with OPERATION_DENIED (29) as libvirtd does.
 */
export function readOnlyGuard<S>(
  isReadOnlyConnection: (connection: ServerConnection<S>) => boolean,
): (connection: ServerConnection<S>, header: MessageHeader) => LibvirtError | undefined {
  return (connection, header) => {
    if (header.prog !== REMOTE_PROGRAM || !isReadOnlyConnection(connection)) return undefined;
    const info = procedureByNumber(header.proc);
    if (!info || isReadOnlyProcedure(header.proc)) return undefined;
    return new LibvirtError(
      VirErr.OPERATION_DENIED,
      info.name.startsWith('DOMAIN_') ? VirFrom.DOMAIN : VirFrom.NONE,
      `operation forbidden: read only access prevents ${apiName(info.name)}`,
    );
  };
}

/** words the public API spells in capitals (virDomainGetXMLDesc, virDomainLookupByUUID, virConnectGetURI…) */
const API_WORDS: Record<string, string> = {
  Xml: 'XML',
  Uuid: 'UUID',
  Id: 'ID',
  Uri: 'URI',
  Os: 'OS',
  Cpu: 'CPU',
  Mac: 'MAC',
  Nmi: 'NMI',
  Pm: 'PM',
  Scsi: 'SCSI',
  Wwn: 'WWN',
  Dhcp: 'DHCP',
  Nwfilter: 'NWFilter',
  Iothread: 'IOThread',
  Fsfreeze: 'FSFreeze',
  Fsthaw: 'FSThaw',
  Fstrim: 'FSTrim',
  Fsinfo: 'FSInfo',
};

/** DOMAIN_GET_XML_DESC → virDomainGetXMLDesc: the public API name libvirtd puts in its messages */
export const apiName = (procName: string): string =>
  'vir' +
  procName
    .toLowerCase()
    .split('_')
    .map((w) => {
      const word = w.charAt(0).toUpperCase() + w.slice(1);
      return API_WORDS[word] ?? word;
    })
    .join('');

/** Send a REMOTE event message (e.g. a lifecycle callback) to one client. */
export function sendRemoteEvent<S, K extends EventName>(connection: ServerConnection<S>, name: K, message: EventOf<K>): void {
  const ev = EVENT[name];
  connection.sendMessage(REMOTE_PROGRAM, REMOTE_VERSION, ev.number, encode(ev.body as never, message as never));
}

