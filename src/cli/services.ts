// The real effects behind the orchestrator's Services, and the reporter for this terminal: listr2 tasks when
// stderr is a TTY (and not --json), plain lines otherwise (journald, logs, pipes), only the troubles with --quiet.
import { openConnection, type Backend } from '../connect/index.js';
import { systemClock } from '../effects/clock.js';
import { nodeFiles } from '../effects/files.js';
import { acquireRunLock } from '../effects/run-lock.js';
import { systemdSupervisor } from '../effects/sd-notify.js';
import type { OrchestratorEvent } from '../orchestrator/events.js';
import type { Services } from '../orchestrator/services.js';
import { isTrouble, plainRenderer } from '../ui/plain.js';
import { TaskRenderer } from '../ui/tasks.js';

export interface Terminal {
  report(event: OrchestratorEvent): void;
  /** waits for the task display to finish drawing */
  finish(): Promise<void>;
}

export function terminalFor(options: { json: boolean; quiet?: boolean }): Terminal {
  const write = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  if (options.quiet) {
    const plain = plainRenderer(write);
    return { report: (event) => (isTrouble(event) ? plain(event) : undefined), finish: async () => undefined };
  }
  if (process.stderr.isTTY && !options.json && process.env.TERM !== 'dumb') {
    const tasks = new TaskRenderer(write);
    return { report: tasks.report, finish: () => tasks.finish() };
  }
  return { report: plainRenderer(write), finish: async () => undefined };
}

export function realServices(terminal: Terminal, env: NodeJS.ProcessEnv, backend: Backend): Services {
  const said = new Set<string>();
  const warn = (message: string): void => {
    if (said.has(message)) return; // once per run, not once per connection attempt
    said.add(message);
    process.stderr.write(`warning: ${message}\n`);
  };
  return {
    connect: (uri, { readonly }) => openConnection(uri, { backend, readonly, env, onNote: warn }),
    clock: systemClock,
    files: nodeFiles,
    lock: (file, waitMs, onWait) => acquireRunLock(file, { waitMs, clock: systemClock, onWait }),
    supervisor: systemdSupervisor(env, warn),
    report: terminal.report,
  };
}
