// Calls of every REMOTE procedure that takes flags, with any flags, for the tests of guestd's flag checks.
import net from 'node:net';
import type { FlaggedProc } from '../../src/daemon/flags.js';
import { RemoteClient } from '../../src/remote/client.js';
import { MetadataType } from '../../src/remote/enums.js';
import { PROC, type ArgsOf, type Procedure } from '../../src/remote/protocol.js';
import type { RemoteDomain } from '../../src/remote/types.js';
import { guestXml } from './virsh.js';

/** the arguments of each procedure that takes flags: a procedure missing here is a compile error */
export const FLAGGED_CALLS: { [K in FlaggedProc]: (dom: RemoteDomain, flags: number) => ArgsOf<K> } = {
  CONNECT_OPEN: (_dom, flags) => ({ name: null, flags }),
  CONNECT_LIST_ALL_DOMAINS: (_dom, flags) => ({ need_results: 1, flags }),
  CONNECT_GET_ALL_DOMAIN_STATS: (_dom, flags) => ({ doms: [], stats: 1, flags }),
  DOMAIN_GET_XML_DESC: (dom, flags) => ({ dom, flags }),
  DOMAIN_GET_STATE: (dom, flags) => ({ dom, flags }),
  DOMAIN_DEFINE_XML_FLAGS: (_dom, flags) => ({ xml: guestXml('flags-defined', {}, 1), flags }),
  DOMAIN_UNDEFINE_FLAGS: (dom, flags) => ({ dom, flags }),
  DOMAIN_CREATE_XML: (_dom, flags) => ({ xml_desc: guestXml('flags-created', {}, 1), flags }),
  DOMAIN_CREATE_WITH_FLAGS: (dom, flags) => ({ dom, flags }),
  DOMAIN_SHUTDOWN_FLAGS: (dom, flags) => ({ dom, flags }),
  DOMAIN_DESTROY_FLAGS: (dom, flags) => ({ dom, flags }),
  DOMAIN_MANAGED_SAVE: (dom, flags) => ({ dom, flags }),
  DOMAIN_HAS_MANAGED_SAVE_IMAGE: (dom, flags) => ({ dom, flags }),
  DOMAIN_MANAGED_SAVE_REMOVE: (dom, flags) => ({ dom, flags }),
  DOMAIN_GET_JOB_STATS: (dom, flags) => ({ dom, flags }),
  DOMAIN_GET_TIME: (dom, flags) => ({ dom, flags }),
  DOMAIN_SET_TIME: (dom, flags) => ({ dom, seconds: 1n, nseconds: 0, flags }),
  DOMAIN_GET_METADATA: (dom, flags) => ({ dom, type: MetadataType.DESCRIPTION, uri: null, flags }),
  DOMAIN_SET_METADATA: (dom, flags) => ({ dom, type: MetadataType.TITLE, metadata: 'changed', key: null, uri: null, flags }),
  DOMAIN_SNAPSHOT_NUM: (dom, flags) => ({ dom, flags }),
  DOMAIN_GET_MESSAGES: (dom, flags) => ({ dom, flags }),
  DOMAIN_MIGRATE_BEGIN3_PARAMS: (dom, flags) => ({ dom, params: [], flags }),
  DOMAIN_MIGRATE_PREPARE3_PARAMS: (_dom, flags) => ({ params: [], cookie_in: Buffer.alloc(0), flags }),
  DOMAIN_MIGRATE_PERFORM3_PARAMS: (dom, flags) => ({ dom, dconnuri: null, params: [], cookie_in: Buffer.alloc(0), flags }),
  DOMAIN_MIGRATE_FINISH3_PARAMS: (_dom, flags) => ({ params: [], cookie_in: Buffer.alloc(0), flags, cancelled: 1 }),
  DOMAIN_MIGRATE_CONFIRM3_PARAMS: (dom, flags) => ({ dom, params: [], cookie_in: Buffer.alloc(0), flags, cancelled: 1 }),
  DOMAIN_REBOOT: (dom, flags) => ({ dom, flags }),
  DOMAIN_RESET: (dom, flags) => ({ dom, flags }),
  DOMAIN_MEMORY_STATS: (dom, flags) => ({ dom, maxStats: 13, flags }),
  DOMAIN_GET_VCPUS_FLAGS: (dom, flags) => ({ dom, flags }),
  DOMAIN_GET_CONTROL_INFO: (dom, flags) => ({ dom, flags }),
  CONNECT_GET_SYSINFO: (_dom, flags) => ({ flags }),
  NODE_GET_CPU_MAP: (_dom, flags) => ({ need_map: 1, need_online: 1, flags }),
  CONNECT_GET_DOMAIN_CAPABILITIES: (_dom, flags) => ({ emulatorbin: null, arch: null, machine: null, virttype: null, flags }),
};

export const FLAGGED_PROCS = Object.keys(FLAGGED_CALLS) as FlaggedProc[];

/** call `proc` on `dom` with `flags` */
export function callFlagged(client: RemoteClient, proc: FlaggedProc, dom: RemoteDomain, flags: number): Promise<unknown> {
  const args = (FLAGGED_CALLS[proc] as (d: RemoteDomain, f: number) => unknown)(dom, flags >>> 0);
  return client.call(PROC[proc] as Procedure<unknown, unknown>, args);
}

/** a REMOTE client on a guestd socket, past AUTH_LIST and (unless `open` is false) CONNECT_OPEN */
export async function remoteClient(socket: string, open = true): Promise<RemoteClient> {
  const s = net.connect(socket);
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  const client = new RemoteClient(s);
  await client.call(PROC.AUTH_LIST);
  if (open) await client.call(PROC.CONNECT_OPEN, { name: null, flags: 0 });
  return client;
}
