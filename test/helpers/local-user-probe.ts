// Run as another local user (setpriv) by the security suite: what that user can do with guestd's sockets.
// argv: the read-write, read-only and admin socket paths, then the name of a running guest. Prints one JSON line:
// per socket, the connection error code or 'served'; on the read-only socket, the error code of a destroy.
import net from 'node:net';
import { ConnectFlags, PROC } from '../../src/remote/protocol.js';
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

const [rw, ro, admin, guest] = process.argv.slice(2) as [string, string, string, string];
const result: Record<string, string | number> = { rw: await reach(rw), admin: await reach(admin), ro: await reach(ro) };
if (result.ro === 'served') {
  const c = await RawClient.connect(ro);
  await c.open(ConnectFlags.RO);
  const found = await c.call(PROC.DOMAIN_LOOKUP_BY_NAME.number, encode(PROC.DOMAIN_LOOKUP_BY_NAME.args, { name: guest }));
  result.lookup = found.header.status === 0 ? 'found' : errorOf(found).code;
  // DOMAIN_DESTROY takes the domain the lookup returned: its reply body is that domain
  const destroy = await c.call(PROC.DOMAIN_DESTROY.number, found.body);
  result.destroy = destroy.header.status === 0 ? 'done' : errorOf(destroy).code;
  c.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
