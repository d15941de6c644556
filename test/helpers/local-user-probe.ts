// What a local user can do with guestd's sockets; the security suite runs probe() as another user (setpriv, a
// fresh node that imports this module). The result: per socket, the connection error code or 'served'; on the
// read-only socket, whether a guest is found and the error code of destroying it.
import net from 'node:net';
import { ConnectFlags } from '../../src/remote/enums.js';
import { PROC } from '../../src/remote/protocol.js';
import { encode } from '../../src/rpc/xdr-types.js';
import { errorOf, RawClient } from './raw-rpc.js';

async function reach(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath, () => {
      s.destroy();
      resolve('served');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

export async function probe(rw: string, ro: string, admin: string, guest: string): Promise<Record<string, string | number>> {
  const result: Record<string, string | number> = { rw: await reach(rw), admin: await reach(admin), ro: await reach(ro) };
  if (result.ro !== 'served') return result;
  const c = await RawClient.connect(ro);
  await c.open(ConnectFlags.RO);
  const found = await c.call(PROC.DOMAIN_LOOKUP_BY_NAME.number, encode(PROC.DOMAIN_LOOKUP_BY_NAME.args, { name: guest }));
  result.lookup = found.header.status === 0 ? 'found' : errorOf(found).code;
  // DOMAIN_DESTROY takes the domain the lookup returned: its reply body is that domain
  const destroy = await c.call(PROC.DOMAIN_DESTROY.number, found.body);
  result.destroy = destroy.header.status === 0 ? 'done' : errorOf(destroy).code;
  c.close();
  return result;
}
