// Helpers for tests and benchmarks against the real libvirtd + QEMU of scripts/real-libvirt: prerequisites,
// virsh as ground truth, and the test guests (lgt-*).
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { prepareOriginal, type OriginalScript } from '../helpers/original-script.js';
import { repoPath } from '../helpers/repo.js';

export const URI = 'qemu:///system';
export const GUESTS_SH = repoPath('scripts', 'real-libvirt', 'guests.sh');
const SERIAL_DIR = '/var/log/libvirt/qemu';
const SOCKETS = ['/run/libvirt/virtqemud-sock', '/run/libvirt/libvirt-sock'];

/** Why the real stack cannot be used here, or null when it can. */
export async function missingPrerequisite(): Promise<string | null> {
  try {
    await execa('virsh', ['--version'], { env: { LC_ALL: 'C' } });
  } catch {
    return 'virsh is not installed (run scripts/real-libvirt/setup.sh)';
  }
  if (!SOCKETS.some((s) => existsSync(s))) return `no libvirtd socket (${SOCKETS.join(', ')}): run scripts/real-libvirt/setup.sh`;
  if (!existsSync(GUESTS_SH)) return `${GUESTS_SH} is missing (part of the repository: is the checkout complete?)`;
  if (!existsSync('/var/lib/real-libvirt/boot/vmlinuz')) return 'the guest kernel is missing: run scripts/real-libvirt/setup.sh';
  return null;
}

/** Ground truth: virsh itself. Throws with its stderr on failure. */
export async function virsh(...args: string[]): Promise<string> {
  return virshOn(URI, ...args);
}

/** virsh on another libvirtd (a private one of test/e2e/session-libvirtd.ts) */
export async function virshOn(uri: string, ...args: string[]): Promise<string> {
  const r = await execa('virsh', ['-q', '-c', uri, ...args], { env: { LC_ALL: 'C' }, reject: false });
  if (r.exitCode !== 0) throw new Error(`virsh ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** the running guests' names in virsh's order (by id) */
export async function runningGuests(): Promise<string[]> {
  return (await virsh('list', '--name')).split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Removes one guest this run defined: destroyed, managed save and definition removed, serial log deleted; quiet when gone. */
export async function removeGuest(name: string): Promise<void> {
  await virsh('destroy', name).catch(() => undefined);
  await virsh('undefine', '--managed-save', name).catch(() => undefined);
  rmSync(`${SERIAL_DIR}/${name}.serial.log`, { force: true });
}

export const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter(Boolean).sort();

/** `guests.sh up KIND N`: removes every lgt-* guest, then defines and starts N guests of one kind. */
export async function guestsUp(kind: string, n: number, mem?: number, fill?: number): Promise<void> {
  const args = [GUESTS_SH, 'up', kind, String(n), ...(mem ? [String(mem)] : []), ...(fill ? [String(fill)] : [])];
  await execa('bash', args, { stdio: 'inherit' });
}

export async function guestsClean(): Promise<void> {
  await execa('bash', [GUESTS_SH, 'clean'], { reject: false });
}

/** Define one more guest beside those of guestsUp (which accepts a single kind). */
export async function defineGuest(kind: string, name: string, mem: number, fill: number): Promise<void> {
  const { stdout: xml } = await execa('bash', [GUESTS_SH, 'xml', kind, name, String(mem), String(fill)]);
  // virsh cannot open /dev/stdin when it is a socket (execa's input): go through a file
  const dir = mkdtempSync(path.join(tmpdir(), 'lgt-'));
  try {
    writeFileSync(path.join(dir, 'domain.xml'), xml);
    await virsh('define', path.join(dir, 'domain.xml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Start a kernel guest with a fresh serial log and wait until its init says it is ready. */
export async function bootAndWait(name: string, timeoutMs = 120_000): Promise<void> {
  const log = `${SERIAL_DIR}/${name}.serial.log`;
  if (existsSync(log)) truncateSync(log);
  await virsh('start', name);
  await waitForReady(name, timeoutMs);
}

export async function waitForReady(name: string, timeoutMs = 120_000): Promise<void> {
  const log = `${SERIAL_DIR}/${name}.serial.log`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (text.includes('lgt-init: ready')) return;
    if (text.includes('Kernel panic')) throw new Error(`${name} panicked while booting`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms`);
}

/** the original script and ours side by side on URI: ON_BOOT=start, ON_SHUTDOWN=suspend, one list file for both */
export function sideBySide(prefix: string): { dir: string; original: OriginalScript; env: Record<string, string> } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const original = prepareOriginal(dir);
  original.configure([`URIS=${URI}`, 'ON_BOOT=start', 'ON_SHUTDOWN=suspend']);
  const config = path.join(dir, 'ours.conf');
  writeFileSync(config, `URIS=${URI}\nON_BOOT=start\nON_SHUTDOWN=suspend\nCONNECT_RETRIES=0\n`);
  // our state files are the original's: the list written by one is read by the other
  const env = {
    LIBVIRT_GUESTS_CONFIG: config,
    LIBVIRT_GUESTS_LIST_FILE: original.listFile,
    LIBVIRT_GUESTS_LOCK_FILE: path.join(dir, 'ours.lock'),
    LIBVIRT_GUESTS_BACKEND: 'native',
  };
  return { dir, original, env };
}
