// A fleet of process guests on a real guestd, for the libvirt-guests command tests: defined and started with the
// real virsh, inspected through our native connection, with the list/lock/config files of a CLI sandbox.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openConnection } from '../../src/connect/index.js';
import type { Connection } from '../../src/connect/connection.js';
import type { DomainState } from '../../src/libvirt/domain-state.js';
import { sandbox } from './cli.js';
import { startGuestd, type GuestdInstance } from './guestd.js';
import { guestXml, virsh } from './virsh.js';

export type GuestKind = 'stuck' | 'slow' | 'agent' | 'plain' | 'transient' | 'slowsave' | 'slowoff' | 'sluggish' | 'booting' | 'crawlsave';

export interface FleetGuest {
  name: string;
  kind: GuestKind;
  uuid: string;
}

const BEHAVIOR: Record<GuestKind, Record<string, string | number>> = {
  stuck: { 'honor-shutdown': 'no', agent: 'no' },
  slow: { 'shutdown-seconds': 2, agent: 'no' },
  agent: { 'shutdown-seconds': 0.2, agent: 'yes' },
  plain: { 'shutdown-seconds': 0.2, agent: 'no' },
  transient: { 'shutdown-seconds': 0.2, agent: 'no' },
  /** saves at 32 MiB/s: a stop takes long enough to be interrupted */
  slowsave: { 'shutdown-seconds': 0.2, agent: 'no', 'save-mib-per-second': 32 },
  /** powers off 5 s after the button: a start run meanwhile finds it still running */
  slowoff: { 'shutdown-seconds': 5, agent: 'no' },
  /** slow at everything (boots in 1 s, powers off in 2 s, saves at 32 MiB/s): every moment of a stop is wide */
  sluggish: { 'boot-seconds': 1, 'shutdown-seconds': 2, agent: 'no', 'save-mib-per-second': 32 },
  /** its agent answers 1.5 s after a boot (readiness-gated start) */
  booting: { 'boot-seconds': 1.5, 'shutdown-seconds': 0.2, agent: 'yes' },
  /** saves at 2 MiB/s: a save that outlasts any short deadline */
  crawlsave: { 'shutdown-seconds': 0.2, agent: 'no', 'save-mib-per-second': 2 },
};

export interface Fleet {
  guestd: GuestdInstance;
  guests: FleetGuest[];
  conn: Connection;
  sb: ReturnType<typeof sandbox>;
  /** write the libvirt-guests config (URIS points at this guestd) */
  configure(lines: Record<string, string | number>): void;
  state(name: string): Promise<{ state: DomainState; reason: number } | 'gone'>;
  hasManagedSave(name: string): Promise<boolean>;
  /** lines the guest runtime logged (shutdown requests are logged there) */
  guestLog(name: string): string;
  listFile(): string | null;
  close(): Promise<void>;
}

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>, what: string): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

/** Starts a guestd and the given guests (running). Transient guests are created, the others defined + started. */
export async function startFleet(kinds: Partial<Record<GuestKind, number>>, memoryMiB = 4, guestdConfig?: string): Promise<Fleet> {
  const guestd = await startGuestd(guestdConfig !== undefined ? { config: guestdConfig } : {});
  const sb = sandbox();
  const guests: FleetGuest[] = [];
  for (const [kind, n] of Object.entries(kinds) as [GuestKind, number][]) {
    for (let i = 1; i <= n; i++) {
      const name = `${kind}${i}`;
      const file = path.join(guestd.dir, `${name}.xml`);
      writeFileSync(file, guestXml(name, BEHAVIOR[kind], memoryMiB));
      if (kind === 'transient') await ok(virsh(guestd.uri, 'create', file), `create ${name}`);
      else {
        await ok(virsh(guestd.uri, 'define', file), `define ${name}`);
        await ok(virsh(guestd.uri, 'start', name), `start ${name}`);
      }
      const uuid = (await ok(virsh(guestd.uri, 'domuuid', name), `domuuid ${name}`)).trim();
      guests.push({ name, kind, uuid });
    }
  }
  const conn = await openConnection(guestd.uri);
  const fleet: Fleet = {
    guestd,
    guests,
    conn,
    sb,
    configure(lines) {
      const text = Object.entries({ URIS: `'${guestd.uri}'`, ...lines })
        .map(([k, v]) => `${k}=${v}`)
        .join('\n');
      writeFileSync(sb.config, `${text}\n`);
    },
    async state(name) {
      try {
        return await conn.state(await conn.lookup(name));
      } catch {
        return 'gone';
      }
    },
    async hasManagedSave(name) {
      return conn.hasManagedSave(await conn.lookup(name));
    },
    guestLog(name) {
      const file = path.join(guestd.stateDir, 'log', `${name}.log`);
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    },
    listFile() {
      return existsSync(sb.listFile) ? readFileSync(sb.listFile, 'utf8') : null;
    },
    async close() {
      await conn.close().catch(() => undefined);
      await guestd.cleanup();
    },
  };
  fleet.configure({});
  return fleet;
}

export const RUNNING = 1;
export const RUNNING_RESTORED = 3;
export const SHUTOFF_SAVED = 5;
