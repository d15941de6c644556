// The migration procedures of libvirt's version 3 protocol with parameters (BEGIN3, PREPARE3, PERFORM3, FINISH3,
// CONFIRM3 _PARAMS), mapped onto the driver's DriverMigration. A client may drive the five steps itself (managed
// migration: begin, perform and confirm here, prepare and finish on the destination); with VIR_MIGRATE_PEER2PEER
// the client makes one call, PERFORM3_PARAMS with the destination's URI, and this daemon drives the steps itself,
// as a client of the destination daemon (migration-peer.ts).
import type { DriverMigrateFlags, DriverMigration, Driver } from '../driver/driver.js';
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import { notSupported } from '../remote/dispatch.js';
import { MigrateFlags, MigrateParam } from '../remote/enums.js';
import type { ArgsOf, RetOf } from '../remote/protocol.js';
import type { TypedParam } from '../remote/types.js';
import type { ClientState } from './client-state.js';
import { has } from './flags.js';
import { migrateToPeer } from './migration-peer.js';

type MigrationProc =
  | 'DOMAIN_MIGRATE_BEGIN3_PARAMS'
  | 'DOMAIN_MIGRATE_PREPARE3_PARAMS'
  | 'DOMAIN_MIGRATE_PERFORM3_PARAMS'
  | 'DOMAIN_MIGRATE_FINISH3_PARAMS'
  | 'DOMAIN_MIGRATE_CONFIRM3_PARAMS';
type MigrationHandlers = { [K in MigrationProc]: (args: ArgsOf<K>, client: ClientState) => Promise<RetOf<K>> };

const invalidArg = (what: string): LibvirtError => new LibvirtError(VirErr.INVALID_ARG, VirFrom.DOM, `invalid argument: ${what}`);

export const migrateFlagsOf = (flags: number): DriverMigrateFlags => ({
  live: has(flags, MigrateFlags.LIVE),
  persistDest: has(flags, MigrateFlags.PERSIST_DEST),
  undefineSource: has(flags, MigrateFlags.UNDEFINE_SOURCE),
});

const ACCEPTED_PARAMS = new Set<string>([MigrateParam.URI, MigrateParam.DEST_NAME, MigrateParam.DEST_XML]);

/** the string parameters, refusing any the driver does not honour */
export function migrateParams(params: readonly TypedParam[], domainName: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of params) {
    if (!ACCEPTED_PARAMS.has(p.field)) throw invalidArg(`migration parameter '${p.field}' is not supported by process guests`);
    if (typeof p.value.value !== 'string') throw invalidArg(`migration parameter '${p.field}' must be a string`);
    out.set(p.field, p.value.value);
  }
  const dname = out.get(MigrateParam.DEST_NAME);
  if (dname !== undefined && domainName !== null && dname !== domainName)
    throw new LibvirtError(VirErr.ARGUMENT_UNSUPPORTED, VirFrom.DOM, 'argument unsupported: a process guest keeps its name when it migrates');
  return out;
}

export function migrationHandlers(driver: Driver, log: (line: string) => void): MigrationHandlers {
  const migration = (proc: string): DriverMigration => {
    if (!driver.migration) throw notSupported(proc);
    return driver.migration;
  };
  return {
    DOMAIN_MIGRATE_BEGIN3_PARAMS: async ({ dom, params, flags }) => {
      const m = migration('DOMAIN_MIGRATE_BEGIN3_PARAMS');
      const record = driver.lookupByUuid(dom.uuid);
      if (migrateParams(params, record.name).has(MigrateParam.DEST_XML))
        throw new LibvirtError(VirErr.ARGUMENT_UNSUPPORTED, VirFrom.DOM, 'argument unsupported: a process guest migrates with its own definition');
      const { xml, cookie } = await m.begin(record.uuid, migrateFlagsOf(flags));
      return { cookie_out: cookie, xml };
    },
    DOMAIN_MIGRATE_PREPARE3_PARAMS: async ({ params, cookie_in, flags }, client) => {
      const m = migration('DOMAIN_MIGRATE_PREPARE3_PARAMS');
      const p = migrateParams(params, null);
      const xml = p.get(MigrateParam.DEST_XML);
      if (!xml) throw invalidArg(`the destination needs the domain's definition (parameter '${MigrateParam.DEST_XML}')`);
      const { cookie, uri, uuid, abandon } = await m.prepare(xml, cookie_in, migrateFlagsOf(flags), p.get(MigrateParam.URI) ?? null);
      // as libvirt's destination: the client that prepared the migration gone before FINISH3, the incoming guest ends
      client.closeCallbacks.set(uuid, abandon);
      return { cookie_out: cookie, uri_out: uri };
    },
    DOMAIN_MIGRATE_PERFORM3_PARAMS: async ({ dom, dconnuri, params, cookie_in, flags }) => {
      const m = migration('DOMAIN_MIGRATE_PERFORM3_PARAMS');
      const record = driver.lookupByUuid(dom.uuid);
      const p = migrateParams(params, record.name);
      if (has(flags, MigrateFlags.PEER2PEER)) {
        if (!dconnuri) throw invalidArg('a peer-to-peer migration needs the destination URI');
        const took = await migrateToPeer(m, record, dconnuri, p, flags, migrateFlagsOf(flags));
        log(`domain '${record.name}': migrated to ${dconnuri} in ${took.elapsedMs} ms, downtime ${took.downtimeMs} ms`);
        return { cookie_out: Buffer.alloc(0) };
      }
      const uri = p.get(MigrateParam.URI);
      if (!uri) throw invalidArg(`the migration URI from the destination is missing (parameter '${MigrateParam.URI}')`);
      return { cookie_out: (await m.perform(record.uuid, uri, cookie_in, migrateFlagsOf(flags))).cookie };
    },
    DOMAIN_MIGRATE_FINISH3_PARAMS: async ({ params, cookie_in, flags, cancelled }, client) => {
      const m = migration('DOMAIN_MIGRATE_FINISH3_PARAMS');
      migrateParams(params, null);
      const { domain, cookie } = await m.finish(cookie_in, migrateFlagsOf(flags), cancelled !== 0);
      client.closeCallbacks.delete(domain.uuid);
      return { dom: { name: domain.name, uuid: domain.uuid, id: domain.id }, cookie_out: cookie };
    },
    DOMAIN_MIGRATE_CONFIRM3_PARAMS: async ({ dom, params, cookie_in, flags, cancelled }) => {
      const m = migration('DOMAIN_MIGRATE_CONFIRM3_PARAMS');
      const record = driver.lookupByUuid(dom.uuid);
      migrateParams(params, record.name);
      await m.confirm(record.uuid, cookie_in, migrateFlagsOf(flags), cancelled !== 0);
    },
  };
}
