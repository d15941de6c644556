// Start and stop real guestd processes for integration tests: each instance gets its own temp directory (sockets,
// state, PID file, config), and every process started for it (the daemon, its guests) is tracked so cleanup leaves
// nothing running. Guests are found through /proc: their command line or environment names the instance's dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './repo.js';

/** compiled tests run from dist/test/helpers; tsx runs them from test/helpers */
const compiled = import.meta.url.endsWith('.js');

/** argv (after `node`) that runs a module of src/ as a program, compiled or through tsx */
export function programArgs(srcModule: string): string[] {
  return compiled
    ? [path.join(REPO_ROOT, 'dist', srcModule.replace(/\.ts$/, '.js'))]
    : ['--import', 'tsx', path.join(REPO_ROOT, srcModule)];
}

/** guestd's log line for each listener, written once all of them are ready (info: the helper's log_level 2) */
const LISTENING = /: info : listening on /;

export interface GuestdOptions {
  /** extra guestd.conf lines (unix_sock_dir and state_dir are set already) */
  config?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** reuse the directory of an earlier instance (restart tests) */
  dir?: string;
  /** wait until guestd has set up every listener (default true; needs log_level 2 or lower) */
  waitReady?: boolean;
}

export interface GuestdInstance {
  dir: string;
  sockDir: string;
  stateDir: string;
  configFile: string;
  pidFile: string;
  rwSocket: string;
  roSocket: string;
  adminSocket: string;
  /** guest+unix URI for virsh */
  uri: string;
  roUri: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM and wait; guests keep running */
  stop(): Promise<number | null>;
  /** pids of guest processes started for this instance's directory */
  guestPids(): number[];
  /** stop the daemon, kill its guests, remove the directory */
  cleanup(): Promise<void>;
}

const instances = new Set<GuestdInstance>();

export function guestdPaths(dir: string) {
  const sockDir = path.join(dir, 'run');
  return {
    sockDir,
    stateDir: path.join(dir, 'state'),
    configFile: path.join(dir, 'guestd.conf'),
    pidFile: path.join(dir, 'guestd.pid'),
    rwSocket: path.join(sockDir, 'guestd-sock'),
    roSocket: path.join(sockDir, 'guestd-sock-ro'),
    adminSocket: path.join(sockDir, 'guestd-admin-sock'),
  };
}

export function writeGuestdConfig(dir: string, extra = ''): string {
  const p = guestdPaths(dir);
  // log_level 2 unless the test sets its own
  const logLevel = /^\s*log_level\s*=/m.test(extra) ? '' : 'log_level = 2\n';
  writeFileSync(p.configFile, `unix_sock_dir = "${p.sockDir}"\nstate_dir = "${p.stateDir}"\n${logLevel}${extra}\n`);
  return p.configFile;
}

export async function startGuestd(options: GuestdOptions = {}): Promise<GuestdInstance> {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'guestd-it-'));
  const p = guestdPaths(dir);
  if (!options.dir || options.config !== undefined) writeGuestdConfig(dir, options.config);
  const child = spawn(
    process.execPath,
    [...programArgs('src/daemon/main.ts'), '-f', p.configFile, '-p', p.pidFile, ...(options.args ?? [])],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const instance: GuestdInstance = {
    dir,
    ...p,
    uri: `guest+unix:///system?socket=${p.rwSocket}`,
    roUri: `guest+unix:///system?socket=${p.roSocket}`,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    guestPids: () => processesMentioning(dir).filter((pid) => pid !== child.pid),
    async cleanup() {
      instances.delete(instance);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await killProcessesMentioning(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  instances.add(instance);
  if (options.waitReady ?? true) {
    // guestd logs its listeners once every one is set up (modes and groups applied, TLS listening); a socket that
    // accepts is not enough: root connects to it before its mode is set
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: string): void => {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        child.off('exit', exit);
        if (error) reject(new Error(`${error}\nguestd stderr:\n${err}`));
        else resolve();
      };
      const check = (): void => (LISTENING.test(err) ? finish() : undefined);
      const exit = (): void => finish('guestd exited before it listened');
      const timer = setTimeout(() => finish('guestd did not log its listeners within 15 s'), 15_000);
      child.stderr!.on('data', check);
      child.once('exit', exit);
      check();
    });
  }
  return instance;
}

/** Clean up every instance still registered (call from an after() hook). */
export async function cleanupAllGuestd(): Promise<void> {
  await Promise.all([...instances].map((i) => i.cleanup()));
}

export async function waitForSocket(socketPath: string, timeoutMs: number, exited?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited?.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error(`guestd exited before ${socketPath} accepted connections`);
    if (existsSync(socketPath) && (await canConnect(socketPath))) return;
    await sleep(50);
  }
  throw new Error(`${socketPath} did not accept connections within ${timeoutMs} ms`);
}

export function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

/** pids whose command line or environment mentions `needle` (a test's temp dir) */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      let environ = '';
      try {
        environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      } catch {
        /* not ours to read */
      }
      if ((cmdline.includes(needle) || environ.includes(needle)) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

export async function killProcessesMentioning(needle: string): Promise<void> {
  await waitFor(
    `the processes of ${needle} to end`,
    () => {
      const pids = processesMentioning(needle);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      return pids.length === 0;
    },
    10_000,
    50,
  );
}
