// Peer-to-peer migration between two real libvirtd 9.0 instances with a real QEMU guest, on one machine: two
// private session-mode daemons (test/e2e/session-libvirtd.ts: run as nobody, each in a temp dir with its own host
// UUID), the destination reached by the source's daemon at its unix socket URI, the memory over TCP on this host.
// The guest is the `stuck` guest of scripts/real-libvirt (64 MiB, no OS, TCG) without its serial file. Our client's
// one call (both backends), `evacuate` and `return`, and `stop` with ON_SHUTDOWN=migrate then `start` move it there
// and back. The shared system libvirtd is not used.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { openConnection } from '../../src/connect/index.js';
import type { Connection } from '../../src/connect/connection.js';
import { VirErr, isVirError } from '../../src/libvirt/error.js';
import { migrationRecordPath } from '../../src/orchestrator/migrate.js';
import { MigrateResult, StartResult, StopResult } from '../../src/orchestrator/result.js';
import { runGuests } from '../helpers/cli.js';
import { parseResult } from '../helpers/result-schema.js';
import { GUESTS_SH, virshOn } from './real-libvirt.js';
import { missingTwoLibvirtd, startSessionLibvirtd, type SessionLibvirtd } from './session-libvirtd.js';

const missing = await missingTwoLibvirtd();
if (missing && process.env.CI === 'true') throw new Error(`prerequisite missing in CI: ${missing}`);

const NAME = 'lgt-two';
const RUNNING_MIGRATED = 2;

describe('peer-to-peer migration between two real libvirtd with a QEMU guest', { skip: missing ?? false }, () => {
  let src: SessionLibvirtd | undefined;
  let dst: SessionLibvirtd | undefined;
  let dir: string;
  const conns: Connection[] = [];
  const open = async (uri: string, backend: 'native' | 'virsh' = 'native'): Promise<Connection> => {
    const conn = await openConnection(uri, { backend });
    conns.push(conn);
    return conn;
  };
  /** where the guest is: its state on each daemon ('gone' when not defined there) and whether it is persistent */
  const where = async (d: SessionLibvirtd): Promise<string> => {
    const conn = await openConnection(d.uri);
    try {
      const guest = await conn.lookup(NAME);
      const { state, reason } = await conn.state(guest);
      return `${state}/${reason}${(await conn.isPersistent(guest)) ? ' persistent' : ' transient'}`;
    } catch (error) {
      if (isVirError(error, VirErr.NO_DOMAIN)) return 'gone';
      throw error;
    } finally {
      await conn.close();
    }
  };
  const on = async (d: SessionLibvirtd, expected: string): Promise<void> => {
    const other = d === src ? dst! : src!;
    assert.deepEqual([await where(d), await where(other)], [expected, 'gone'], `the guest on ${d.uri}, then on ${other.uri}`);
  };
  const cli = (config: string): Record<string, string> => {
    writeFileSync(path.join(dir, 'conf'), `URIS='${src!.uri}'\nCONNECT_RETRIES=0\n${config}`);
    return {
      LIBVIRT_GUESTS_CONFIG: path.join(dir, 'conf'),
      LIBVIRT_GUESTS_LIST_FILE: path.join(dir, 'list'),
      LIBVIRT_GUESTS_LOCK_FILE: path.join(dir, 'lock'),
    };
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lgt-two-'));
    // both settle before any failure is thrown, so that after() stops the one that did start
    const started = await Promise.allSettled([
      startSessionLibvirtd('lgt-src-').then((d) => (src = d)),
      startSessionLibvirtd('lgt-dst-').then((d) => (dst = d)),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    // the stuck guest of guests.sh: its serial file is under /var/log/libvirt, which nobody cannot write
    const { stdout } = await execa('bash', [GUESTS_SH, 'xml', 'stuck', NAME, '64', '0']);
    const xml = stdout.replace(/\s*<serial[^]*?<\/serial>/, '');
    assert.ok(!xml.includes('<serial'), xml);
    writeFileSync(path.join(dir, 'domain.xml'), xml);
    await virshOn(src!.uri, 'define', path.join(dir, 'domain.xml'));
    await virshOn(src!.uri, 'start', NAME);
  });
  after(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await Promise.all([src?.stop(), dst?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('Connection.migrate moves it there (native backend) and back (virsh backend): running, persistent, gone from the source', async () => {
    await on(src!, 'running/1 persistent');
    const native = await open(src!.uri, 'native');
    await native.migrate(await native.lookup(NAME), dst!.uri, { live: true, persistent: true, undefineSource: true });
    await on(dst!, `running/${RUNNING_MIGRATED} persistent`);

    const viaVirsh = await open(dst!.uri, 'virsh');
    await viaVirsh.migrate(await viaVirsh.lookup(NAME), src!.uri, { live: true, persistent: true, undefineSource: true });
    await on(src!, `running/${RUNNING_MIGRATED} persistent`);
  });

  it('evacuate NAME --to DEST moves it and records it; return brings it back', async () => {
    const env = cli('');
    const run = await runGuests(['evacuate', NAME, '--to', dst!.uri, '--json'], env);
    const evacuated = parseResult(MigrateResult, run);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(
      evacuated.uris.flatMap((u) => u.guests).map((g) => [g.name, g.outcome, g.migratedTo]),
      [[NAME, 'done', dst!.uri]],
    );
    assert.equal(evacuated.away, 1);
    await on(dst!, `running/${RUNNING_MIGRATED} persistent`);

    const back = await runGuests(['return', '--json'], env);
    const returned = parseResult(MigrateResult, back);
    assert.equal(back.exitCode, 0, back.stderr);
    assert.deepEqual(returned.uris.flatMap((u) => u.guests).map((g) => [g.name, g.outcome, g.migratedTo]), [[NAME, 'done', src!.uri]]);
    assert.equal(returned.away, 0);
    await on(src!, `running/${RUNNING_MIGRATED} persistent`);
  });

  it('stop with ON_SHUTDOWN=migrate sends it to MIGRATE_URI; start brings it back', async () => {
    const env = cli(`ON_SHUTDOWN=migrate\nMIGRATE_URI='${dst!.uri}'\n`);
    const stop = await runGuests(['stop', '--json'], env);
    const stopped = parseResult(StopResult, stop);
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.deepEqual(
      stopped.uris.flatMap((u) => u.guests).map((g) => [g.name, g.action, g.outcome, g.migratedTo, g.fallback]),
      [[NAME, 'migrate', 'done', dst!.uri, []]],
    );
    await on(dst!, `running/${RUNNING_MIGRATED} persistent`);
    assert.ok(existsSync(migrationRecordPath(path.join(dir, 'list'))), 'recorded as away');

    const start = await runGuests(['start', '--json'], env);
    const started = parseResult(StartResult, start);
    assert.equal(start.exitCode, 0, start.stderr);
    assert.deepEqual(started.uris.flatMap((u) => u.guests).map((g) => [g.name, g.action, g.outcome]), [[NAME, 'migrate', 'done']]);
    await on(src!, `running/${RUNNING_MIGRATED} persistent`);
    assert.ok(!existsSync(migrationRecordPath(path.join(dir, 'list'))), 'nothing is away any more');
  });
});
