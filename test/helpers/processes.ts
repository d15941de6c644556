// Processes with a pid the tests need: a zombie (exited, never reaped: on this machine PID 1 does not reap orphans,
// so a guest that exits after its daemon died stays one) and a live process unrelated to guestd.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitFor } from './guestd.js';

export interface HeldProcess {
  pid: number;
  /** end it (and, for a zombie, the parent that holds it unreaped) */
  release(): void;
}

const stateOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
};

function hold(parent: ChildProcess, pid: number): HeldProcess {
  return { pid, release: () => parent.kill('SIGKILL') };
}

/** a zombie: its parent (`sleep`, exec'd by the shell that forked it) never waits for it */
export async function zombie(): Promise<HeldProcess> {
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const pid = await waitFor('the zombie pid', () => (/^\d+\n/.test(out) ? Number(out.trim()) : 0), 5000, 10);
  parent.stdout!.destroy();
  await waitFor(`process ${pid} to become a zombie`, () => stateOf(pid) === 'Z', 5000, 10);
  return hold(parent, pid);
}

/** a live process that has nothing to do with guestd */
export function unrelated(): HeldProcess {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  return hold(child, child.pid!);
}
