// On a TTY: listr2 tasks, one per URI with one sub-task per guest showing its progress. Built when the orchestrator
// announces its plan; each guest task settles when that guest's result arrives. Events before the plan (connection
// retries, the lists of running guests) are printed as plain lines.
import type { ListrTaskWrapper } from 'listr2';
import type { OrchestratorEvent } from '../orchestrator/events.js';
import type { GuestResult } from '../orchestrator/result.js';
import { formatBytes } from './units.js';
import { plainRenderer } from './plain.js';

interface GuestTask {
  title: string;
  wrapper?: { title: string; output: string; skip(message?: string): void };
  settle?: (result: GuestResult | Error | null) => void;
  result?: GuestResult | Error | null;
}

const key = (uri: string, uuid: string): string => `${uri} ${uuid}`;

function verdict(r: GuestResult): string {
  const name = r.name || r.uuid;
  const via = r.fallback.length ? ` (via ${r.fallback.join(' → ')})` : '';
  const bytes = r.bytes ? `, ${formatBytes(r.bytes)}` : '';
  return `${name}: ${r.outcome}${via}${bytes}, ${(r.durationMs / 1000).toFixed(1)} s${r.error && r.outcome !== 'done' ? ` — ${r.error}` : ''}`;
}

export class TaskRenderer {
  private readonly guests = new Map<string, GuestTask>();
  private readonly uriNotes = new Map<string, (text: string) => void>();
  private running: Promise<unknown> | null = null;
  private readonly early: (event: OrchestratorEvent) => void;

  constructor(write: (line: string) => void) {
    this.early = plainRenderer(write);
  }

  readonly report = (event: OrchestratorEvent): void => {
    if (this.running === null) {
      if (event.kind === 'plan') this.running = this.build(event);
      else this.early(event);
      return;
    }
    switch (event.kind) {
      case 'guest-begin':
        return this.update(event.uri, event.guest.uuid, (t) => {
          t.title = `${event.guest.name}: ${event.action}`;
        });
      case 'save-progress':
        return this.update(event.uri, event.guest.uuid, (t) => {
          const pct = event.total ? ` / ${formatBytes(event.total)} (${Math.floor((100 * event.processed) / event.total)}%)` : '';
          t.output = `${formatBytes(event.processed)}${pct}`;
        });
      case 'guest-waiting':
        return this.update(event.uri, event.guest.uuid, (t) => {
          t.output = event.secondsLeft === null ? 'waiting to shut down' : `waiting to shut down, ${event.secondsLeft} s left`;
        });
      case 'fallback':
        return this.update(event.uri, event.guest.uuid, (t) => {
          t.output = `${event.from} did not work (${event.reason}): ${event.to}`;
        });
      case 'connection-lost':
        return this.update(event.uri, event.guest.uuid, (t) => {
          t.output = `connection lost (${event.error}); asked again: ${event.found}`;
        });
      case 'not-ready':
        return this.update(event.uri, event.guest.uuid, (t) => {
          t.output = `not ${event.ready === 'agent' ? 'answering through its agent' : 'running'} after ${event.seconds} s (ready-timeout): going on`;
        });
      case 'policy-invalid':
        return this.update(event.uri, event.guest.uuid, (t) => {
          t.output = `policy: ${event.problems.join('; ')}`;
        });
      case 'uri-waiting':
        return this.uriNotes.get(event.uri)?.(`waiting for ${event.count} guests${event.secondsLeft === null ? '' : `, ${event.secondsLeft} s left`}`);
      case 'timeout-expired':
        return this.uriNotes.get(event.uri)?.('Timeout expired while shutting down domains');
      case 'connect-failed':
        for (const [k, t] of this.guests) if (k.startsWith(`${event.uri} `)) this.settle(t, new Error(`cannot connect: ${event.error}`));
        return;
      case 'ignoring-uri':
        for (const [k, t] of this.guests) if (k.startsWith(`${event.uri} `)) this.settle(t, null);
        return;
      case 'guest-end':
        return this.settle(this.guests.get(key(event.result.uri, event.result.uuid)), event.result);
      case 'finished':
        for (const t of this.guests.values()) if (t.result === undefined) this.settle(t, null);
        return;
      default:
        return;
    }
  };

  /** waits until the task list has finished drawing */
  async finish(): Promise<void> {
    for (const t of this.guests.values()) if (t.result === undefined) this.settle(t, null);
    await this.running?.catch(() => undefined);
  }

  private update(uri: string, uuid: string, change: (wrapper: NonNullable<GuestTask['wrapper']>) => void): void {
    const t = this.guests.get(key(uri, uuid));
    if (t?.wrapper) change(t.wrapper);
  }

  private settle(t: GuestTask | undefined, result: GuestResult | Error | null): void {
    if (!t || t.result !== undefined) return;
    t.result = result;
    t.settle?.(result);
  }

  private async build(plan: Extract<OrchestratorEvent, { kind: 'plan' }>): Promise<unknown> {
    const { Listr, ListrLogger, ProcessOutput } = await import('listr2'); // loaded only on a TTY: it costs startup time
    const verb =
      plan.action === 'suspend' ? 'Suspending' : plan.action === 'shutdown' ? 'Shutting down' : plan.action === 'migrate' ? 'Migrating' : 'Resuming';
    for (const u of plan.uris) for (const g of u.guests) this.guests.set(key(u.uri, g.uuid), { title: g.name ?? g.uuid });
    const guestTask = (uri: string, uuid: string) => {
      const t = this.guests.get(key(uri, uuid))!;
      return {
        title: t.title,
        task: (_: unknown, wrapper: ListrTaskWrapper<unknown, never, never>) =>
          new Promise<void>((resolve, reject) => {
            t.wrapper = wrapper as unknown as GuestTask['wrapper'];
            const finish = (r: GuestResult | Error | null): void => {
              if (r === null) {
                wrapper.skip(`${t.title}: not handled`);
                resolve();
              } else if (r instanceof Error) reject(r);
              else if (['done', 'already-active', 'planned', 'skipped', 'missing'].includes(r.outcome)) {
                wrapper.title = verdict(r);
                resolve();
              } else reject(new Error(verdict(r)));
            };
            if (t.result !== undefined) finish(t.result);
            else t.settle = finish;
          }),
      };
    };
    const list = new Listr<unknown, "default", "simple">(
      plan.uris.map((u) => ({
        title: `${verb} guests on ${u.uri}${u.guests.length ? '' : ': none'}`,
        task: (_: unknown, wrapper: ListrTaskWrapper<unknown, never, never>) => {
          this.uriNotes.set(u.uri, (text) => {
            wrapper.output = text;
          });
          return wrapper.newListr(
            u.guests.map((g) => guestTask(u.uri, g.uuid)),
            { concurrent: true, exitOnError: false },
          );
        },
      })),
      {
        concurrent: true,
        exitOnError: false,
        registerSignalListeners: false,
        // progress belongs on stderr: stdout carries the result
        rendererOptions: {
          collapseSubtasks: false,
          logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }),
        },
      },
    );
    return list.run();
  }
}
