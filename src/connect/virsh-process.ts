// Running virsh: the only place the virsh backend touches child processes. Arguments go straight to execve
// (never through a shell) and LC_ALL=C keeps the output parseable. Tests replace the runner with a fake.
import { createInterface } from 'node:readline';

export interface VirshResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A long-running virsh (e.g. `event --loop`), read line by line. */
export interface VirshChild {
  onStdoutLine(listener: (line: string) => void): void;
  onStderrLine(listener: (line: string) => void): void;
  /** resolves with the exit code (null when killed by a signal); never rejects */
  readonly exited: Promise<number | null>;
  kill(): void;
}

export interface VirshRunner {
  run(args: readonly string[]): Promise<VirshResult>;
  spawn(args: readonly string[], env?: Record<string, string>): VirshChild;
}

export function execaVirshRunner(binary = 'virsh'): VirshRunner {
  const env = { LC_ALL: 'C' };
  return {
    async run(args) {
      // execa is imported lazily: it is the slowest import on the CLI's start path
      const { execa } = await import('execa');
      const r = await execa(binary, [...args], { env, reject: false, stdin: 'ignore' });
      if (r.failed && r.exitCode === undefined) {
        // not started at all (ENOENT…): no virsh output to parse
        throw new VirshMissingError(binary, r.shortMessage ?? r.message ?? 'failed to start');
      }
      return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1 };
    },
    spawn(args, extraEnv = {}) {
      return spawnChild(binary, args, { ...env, ...extraEnv });
    },
  };
}

class VirshMissingError extends Error {
  constructor(binary: string, detail: string) {
    super(`cannot run ${binary}: ${detail}`);
    this.name = 'VirshMissingError';
  }
}

function spawnChild(binary: string, args: readonly string[], env: Record<string, string>): VirshChild {
  const stdoutListeners: Array<(line: string) => void> = [];
  const stderrListeners: Array<(line: string) => void> = [];
  let kill: () => void = () => {};
  let killed = false;
  // execa is loaded before the first line can arrive; lines are delivered only after listeners registered.
  const exited = import('execa').then(async ({ execa }) => {
    const child = execa(binary, [...args], { env, reject: false, stdin: 'ignore', buffer: false });
    kill = () => child.kill('SIGTERM');
    if (killed) kill();
    createInterface({ input: child.stdout! }).on('line', (l) => stdoutListeners.forEach((f) => f(l)));
    createInterface({ input: child.stderr! }).on('line', (l) => stderrListeners.forEach((f) => f(l)));
    const r = await child;
    return r.exitCode ?? null;
  });
  return {
    onStdoutLine: (f) => void stdoutListeners.push(f),
    onStderrLine: (f) => void stderrListeners.push(f),
    exited: exited.catch(() => null),
    kill: () => {
      killed = true;
      kill();
    },
  };
}
