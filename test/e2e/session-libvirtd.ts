// A private real libvirtd with the QEMU driver, for migrations between two real daemons on one machine: a per-user
// ("session") libvirtd run as `nobody` in a temp dir of its own (HOME and the XDG dirs: sockets, config, domain
// state, QEMU logs), with its own host UUID (libvirt refuses "Attempt to migrate guest to the same host" between two
// daemons that report the same one). Its guests are QEMU processes running as nobody (TCG); it leaves the shared
// system libvirtd and its guests alone. Reached, by clients and by the other daemon, at
// qemu+unix:///session?socket=DIR/run/libvirt/libvirt-sock; the migration stream goes over TCP, to the destination's
// hostname (libvirt's default: qemu.conf's `migration_host` and `migration_address` may not name a local address).
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { openConnection } from '../../src/connect/index.js';
import { killProcessesMentioning } from '../helpers/guestd.js';
import { chownTree, endDaemon, missingTlsLibvirtd } from './tls-libvirtd.js';

const QEMU = '/usr/bin/qemu-system-x86_64';

/** Why two private QEMU libvirtd cannot migrate between each other here, or null. */
export async function missingTwoLibvirtd(): Promise<string | null> {
  const daemon = missingTlsLibvirtd(); // libvirtd, setpriv, root, the user nobody
  if (daemon) return daemon;
  if (!existsSync(QEMU)) return `${QEMU} is missing (run scripts/real-libvirt/setup.sh)`;
  // the destination tells the source's QEMU to send the memory to tcp:HOSTNAME:PORT
  const name = hostname();
  if (name.startsWith('localhost')) return `the hostname is '${name}': libvirt refuses to migrate to a host named localhost`;
  let address: string;
  try {
    address = (await lookup(name)).address;
  } catch (error) {
    return `the hostname '${name}' does not resolve (${(error as Error).message}): libvirt migrates to it`;
  }
  const local = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  if (!/^127\.|^::1$/.test(address) && !local.includes(address))
    return `the hostname '${name}' resolves to ${address}, not an address of this machine: libvirt migrates to it`;
  return null;
}

export interface SessionLibvirtd {
  /** qemu+unix:///session?socket=… */
  uri: string;
  dir: string;
  /** the daemon's log so far (its stderr) */
  log(): string;
  /** kills its QEMUs and the daemon, removes the dir; never throws */
  stop(): Promise<void>;
}

export async function startSessionLibvirtd(prefix: string): Promise<SessionLibvirtd> {
  const uid = Number(execFileSync('id', ['-u', 'nobody']).toString());
  const gid = Number(execFileSync('id', ['-g', 'nobody']).toString());
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const config = path.join(dir, 'config', 'libvirt');
  mkdirSync(config, { recursive: true });
  writeFileSync(path.join(config, 'libvirtd.conf'), `host_uuid = "${randomUUID()}"\n`);
  // QEMU's output to a file in the dir: no virtlogd to start and clean up
  writeFileSync(path.join(config, 'qemu.conf'), 'stdio_handler = "file"\n');
  chownTree(dir, uid, gid);
  const run = path.join(dir, 'run');
  const uri = `qemu+unix:///session?socket=${path.join(run, 'libvirt', 'libvirt-sock')}`;
  const child = spawn('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', 'libvirtd'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: dir,
      XDG_RUNTIME_DIR: run,
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      XDG_CACHE_HOME: path.join(dir, 'cache'),
      XDG_DATA_HOME: path.join(dir, 'data'),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    await endDaemon(child, exited);
    // its QEMUs outlive it: every process that names the dir (their command lines and environments do)
    await killProcessesMentioning(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await firstAnswer(uri, exited);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nlibvirtd stderr:\n${log}`);
  }
  return { uri, dir, log: () => log, stop };
}

/** until the daemon answers a listing (its drivers are up), failing when it exits */
async function firstAnswer(uri: string, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`the libvirtd of ${uri} exited during start-up`);
    try {
      const conn = await openConnection(uri, { backend: 'native' });
      try {
        await conn.listGuests({ which: 'all' });
        return;
      } finally {
        await conn.close();
      }
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${uri}: no answer within 30 s: ${String(last)}`);
}
