// Peer-to-peer migration: the source daemon drives the five steps, begin and perform and confirm on its own driver,
// prepare and finish on the destination daemon, which it opens as any client would (src/connect: unix socket or
// TLS). Whatever fails, the guest is left running on exactly one side: a failure before the destination has the
// guest cancels there and resumes here.
import { openConnectionDetailed } from '../connect/index.js';
import type { DomainRecord, DriverMigrateFlags, DriverMigration } from '../driver/driver.js';
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';
import { Feature, MigrateParam } from '../remote/enums.js';
import { PROC } from '../remote/protocol.js';
import { tp, type TypedParam } from '../remote/types.js';

const failed = (what: string, cause: unknown): LibvirtError =>
  new LibvirtError(VirErr.OPERATION_FAILED, VirFrom.DOM, `operation failed: ${what}`, { cause });

/** what a peer-to-peer migration took: the whole of it, and the guest's pause (from the last pass until it ran there) */
export interface PeerMigration {
  elapsedMs: number;
  downtimeMs: number;
}

export async function migrateToPeer(
  migration: DriverMigration,
  dom: DomainRecord,
  dconnuri: string,
  params: Map<string, string>,
  /** libvirt's flags, passed on to the destination, and what they ask of the drivers */
  flags: number,
  mflags: DriverMigrateFlags,
  now: () => number = Date.now,
): Promise<PeerMigration> {
  const startedAt = now();
  const { xml, cookie: beginCookie } = await migration.begin(dom.uuid, mflags);
  let opened;
  try {
    opened = await openConnectionDetailed(dconnuri, { backend: 'native' });
  } catch (err) {
    await migration.confirm(dom.uuid, beginCookie, mflags, true);
    throw failed(`cannot connect to the destination '${dconnuri}': ${(err as Error).message}`, err);
  }
  const remote = opened.remote;
  if (!remote) {
    // ends the job begin made, as every other failure before the destination has the guest does
    await opened.connection.close();
    await migration.confirm(dom.uuid, beginCookie, mflags, true);
    throw failed(`the destination '${dconnuri}' is not reachable by libvirt's protocol`, null);
  }
  try {
    const destParams: TypedParam[] = [tp.string(MigrateParam.DEST_XML, xml)];
    const uri = params.get(MigrateParam.URI);
    const target = opened.resolved.target;
    // across hosts the stream goes over TCP to the destination's host; on one host, a socket the destination makes
    if (uri) destParams.push(tp.string(MigrateParam.URI, uri));
    else if (target?.transport === 'tls') destParams.push(tp.string(MigrateParam.URI, `tcp:${target.host}:0`));
    let prepared;
    try {
      const { supported } = await remote.call(PROC.CONNECT_SUPPORTS_FEATURE, { feature: Feature.MIGRATION_PARAMS });
      if (supported !== 1) throw failed(`the destination '${dconnuri}' does not take migration parameters`, null);
      prepared = await remote.call(PROC.DOMAIN_MIGRATE_PREPARE3_PARAMS, { params: destParams, cookie_in: beginCookie, flags });
    } catch (err) {
      await migration.confirm(dom.uuid, beginCookie, mflags, true);
      throw err;
    }
    let performCookie = prepared.cookie_out;
    let performError: unknown = null;
    let pausedAt = 0;
    try {
      if (!prepared.uri_out) throw failed('the destination gave no migration URI', null);
      ({ cookie: performCookie, pausedAt } = await migration.perform(dom.uuid, prepared.uri_out, prepared.cookie_out, mflags));
    } catch (err) {
      performError = err;
    }
    let finishError: unknown = null;
    let finishCookie: Buffer = Buffer.alloc(0);
    try {
      const finished = await remote.call(PROC.DOMAIN_MIGRATE_FINISH3_PARAMS, {
        params: [],
        cookie_in: performCookie,
        flags,
        cancelled: performError ? 1 : 0,
      });
      finishCookie = finished.cookie_out;
    } catch (err) {
      finishError = err;
    }
    const runsThere = now();
    await migration.confirm(dom.uuid, finishCookie, mflags, performError !== null || finishError !== null);
    if (performError) throw performError;
    if (finishError) throw finishError;
    return { elapsedMs: runsThere - startedAt, downtimeMs: runsThere - pausedAt };
  } finally {
    await opened.connection.close();
  }
}
