// A separate, real libvirtd listening on TLS, for interoperability tests, that leaves the shared libvirtd alone:
// a per-user ("session") libvirtd run as `nobody` with its own config file, sockets, pid file and HOME in a temp
// dir. A root libvirtd would share /run/libvirt and the QEMU driver's state with the running one. Clients open
// `test+tls://127.0.0.1:PORT/default`: the test driver, built into libvirt, answers inside that daemon.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, type Pki } from '../helpers/pki.js';

const USER = 'nobody';

/** Why a TLS libvirtd cannot be started here, or null. */
export function missingTlsLibvirtd(): string | null {
  for (const [program, why] of [
    ['libvirtd', 'libvirtd is not installed (run ../shared/real-libvirt/setup.sh)'],
    ['setpriv', 'setpriv (util-linux) is missing'],
  ]) {
    try {
      execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'pipe' });
    } catch {
      return why!;
    }
  }
  if (process.getuid?.() !== 0) return 'starting libvirtd as another user needs root';
  try {
    execFileSync('id', ['-u', USER], { stdio: 'pipe' });
  } catch {
    return `there is no user '${USER}' to run libvirtd as`;
  }
  return null;
}

export interface TlsLibvirtd {
  port: number;
  /** test+tls URI of the test driver for a pkipath directory */
  uri(pkipath: string): string;
  stderr(): string;
  stop(): Promise<void>;
}

export async function startTlsLibvirtd(pki: Pki, options: { allowedDns?: string[] } = {}): Promise<TlsLibvirtd> {
  const uid = Number(execFileSync('id', ['-u', USER]).toString());
  const gid = Number(execFileSync('id', ['-g', USER]).toString());
  const dir = mkdtempSync(path.join(tmpdir(), 'libvirtd-tls-'));
  chmodSync(dir, 0o755);
  for (const sub of ['home', 'run']) mkdirSync(path.join(dir, sub));
  const file = (name: string): string => path.join(dir, name);
  // the daemon runs as nobody: it gets its own copies of the server's files
  copyFileSync(pki.caFile, file('cacert.pem'));
  copyFileSync(pki.serverCert, file('servercert.pem'));
  copyFileSync(pki.serverKey, file('serverkey.pem'));
  const port = await freePort();
  writeFileSync(
    file('libvirtd.conf'),
    [
      'listen_tls = 1',
      'listen_tcp = 0',
      'listen_addr = "127.0.0.1"',
      `tls_port = "${port}"`,
      `ca_file = "${file('cacert.pem')}"`,
      `cert_file = "${file('servercert.pem')}"`,
      `key_file = "${file('serverkey.pem')}"`,
      `unix_sock_dir = "${file('run')}"`,
      ...(options.allowedDns ? [`tls_allowed_dn_list = [ ${options.allowedDns.map((d) => JSON.stringify(d)).join(', ')} ]`] : []),
      '',
    ].join('\n'),
  );
  chownTree(dir, uid, gid);
  const child: ChildProcess = spawn(
    'setpriv',
    ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', 'libvirtd', '--listen', '-f', file('libvirtd.conf'), '-p', file('libvirtd.pid')],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: file('home'),
        XDG_RUNTIME_DIR: file('run'),
        XDG_CONFIG_HOME: file('home/.config'),
        XDG_CACHE_HOME: file('home/.cache'),
        XDG_DATA_HOME: file('home/.local/share'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    await endDaemon(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 30_000, exited);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nlibvirtd stderr:\n${err}`);
  }
  return {
    port,
    uri: (pkipath) => `test+tls://127.0.0.1:${port}/default?pkipath=${pkipath}`,
    stderr: () => err,
    stop,
  };
}

/** SIGTERM, SIGKILL after 10 s; resolves once it has exited */
export async function endDaemon(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(force);
}

export function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

async function waitForPort(port: number, timeoutMs: number, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) throw new Error('libvirtd exited during start-up');
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`libvirtd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}
