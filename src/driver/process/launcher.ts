// Starting the guest runtime: one detached OS process per running guest (own session, stdio to a per-guest log
// file) so it survives daemon restarts and `kill -9` of the daemon. The runtime reports readiness (or why a restore
// failed) as one JSON line on fd 3.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../effects/clock.js';
import type { GuestBehavior, ReadyLine } from '../../guest/protocol.js';

export interface LaunchSpec {
  name: string;
  uuid: string;
  memoryBytes: number;
  monitorPath: string;
  behavior: GuestBehavior;
  logFile: string;
  restoreFile?: string;
  bypassCache?: boolean;
  /** come up paused (libvirt's start --paused); without it, a restore comes up as its image says */
  paused?: boolean;
  /** start now, restore once restoreFile appears (an incoming migration) */
  awaitRestore?: boolean;
  /** how long to wait for the runtime to report ready */
  timeoutMs: number;
  /** told the pid as soon as the process exists, before it is ready */
  onSpawn?: (pid: number) => void;
}

export class LaunchError extends Error {
  constructor(
    readonly errorClass: string,
    message: string,
  ) {
    super(message);
  }
}

export type Launcher = (spec: LaunchSpec, clock: Clock) => Promise<{ pid: number; restored: boolean }>;

/** `node [--import tsx] main.{js,ts}`: the compiled runtime beside this file, or its source under tsx */
export function runtimeCommand(): { execPath: string; args: string[] } {
  const js = fileURLToPath(new URL('../../guest/main.js', import.meta.url));
  if (existsSync(js)) return { execPath: process.execPath, args: [js] };
  const ts = fileURLToPath(new URL('../../guest/main.ts', import.meta.url));
  return { execPath: process.execPath, args: ['--import', import.meta.resolve('tsx'), ts] };
}

/** the last lines of a guest's log, read from its last 4 KiB only (a log grows over the guest's lives) */
function tail(file: string, lines = 5): string {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, Math.max(0, fstatSync(fd).size - buf.length));
    return buf.subarray(0, n).toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export const launchGuest: Launcher = (spec, clock) => {
  const cmd = runtimeCommand();
  // `--opt=value`: a value such as the name '-x' would otherwise be read as an option
  const args = [
    ...cmd.args,
    `--name=${spec.name}`,
    `--uuid=${spec.uuid}`,
    `--memory-bytes=${spec.memoryBytes}`,
    `--monitor=${spec.monitorPath}`,
    `--behavior=${JSON.stringify(spec.behavior)}`,
    '--ready-fd=3',
    ...(spec.restoreFile ? [`--restore=${spec.restoreFile}`] : []),
    ...(spec.bypassCache ? ['--bypass-cache'] : []),
    ...(spec.paused ? ['--paused'] : []),
    ...(spec.awaitRestore ? ['--await-restore'] : []),
  ];
  const log = openSync(spec.logFile, 'a', 0o600);
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // set by node:test; a guest is not a test process
  let child;
  try {
    child = spawn(cmd.execPath, args, { detached: true, stdio: ['ignore', log, log, 'pipe'], cwd: '/', env });
  } finally {
    closeSync(log);
  }
  if (child.pid !== undefined) {
    try {
      spec.onSpawn?.(child.pid);
    } catch (err) {
      child.kill('SIGKILL');
      throw new LaunchError('SpawnError', `cannot record the guest process ${child.pid}: ${(err as Error).message}`);
    }
  }
  const readyPipe = child.stdio[3] as Readable | null;
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const waiting = new AbortController();
    const finish = (err: Error | null, value?: { pid: number; restored: boolean }): void => {
      if (done) return;
      done = true;
      waiting.abort();
      readyPipe?.destroy();
      child.unref();
      if (err) reject(err);
      else resolve(value as { pid: number; restored: boolean });
    };
    clock.sleep(spec.timeoutMs, waiting.signal).then(
      () => {
        child.kill('SIGKILL');
        finish(new LaunchError('Timeout', `the guest runtime did not become ready within ${spec.timeoutMs} ms`));
      },
      () => undefined, // ready (or failed) before
    );
    child.once('error', (err) => finish(new LaunchError('SpawnError', `cannot start the guest runtime: ${err.message}`)));
    // the runtime ended before its ready line: known once the pipe is read to its end (the line may still be in it)
    let exit: string | null = null;
    let pipeClosed = readyPipe === null;
    const endedUnready = (): void => {
      if (exit === null || !pipeClosed) return;
      const why = tail(spec.logFile);
      finish(new LaunchError('Exited', `the guest runtime exited (${exit}) before it was ready${why ? `: ${why}` : ''}`));
    };
    child.once('exit', (code, signal) => {
      exit = signal ?? `code ${code}`;
      endedUnready();
    });
    readyPipe?.once('close', () => {
      pipeClosed = true;
      endedUnready();
    });
    readyPipe?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let line: ReadyLine;
      try {
        line = JSON.parse(buf.slice(0, nl)) as ReadyLine;
      } catch {
        finish(new LaunchError('Protocol', `unreadable ready line from the guest runtime: ${buf.slice(0, nl)}`));
        return;
      }
      if ('error' in line) finish(new LaunchError(line.error.class, line.error.desc));
      else finish(null, { pid: child.pid ?? line.pid, restored: line.restored });
    });
    readyPipe?.on('error', () => undefined);
  });
};
