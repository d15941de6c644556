// Test bed for the process driver: a temp state/run dir, a driver with a captured log and events, and cleanup that
// kills every guest process started under the temp dir (found by its command line) so no test leaves one behind.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEvent } from '../../../src/driver/driver.js';
import { ProcessDriver } from '../../../src/driver/process/index.js';
import { MonitorClient } from '../../../src/driver/process/monitor-client.js';
import type { RuntimeStatus } from '../../../src/driver/process/store.js';

export const BEHAVIOR_NS = 'urn:guestd:behavior:1';

export function domainXML(
  name: string,
  opts: { memory?: string; uuid?: string; behavior?: Record<string, string | number>; extra?: string } = {},
): string {
  const attrs = Object.entries({ 'shutdown-seconds': 0.2, ...opts.behavior })
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return `<domain type='process'>
  <name>${name}</name>${opts.uuid ? `\n  <uuid>${opts.uuid}</uuid>` : ''}
  <memory unit='MiB'>${opts.memory ?? '4'}</memory>
  <metadata><gd:behavior xmlns:gd="${BEHAVIOR_NS}"${attrs}/>${opts.extra ?? ''}</metadata>
</domain>`;
}

/** pids of processes whose command line mentions `needle` */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmd.includes(needle) && state !== 'Z') out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export class Bed {
  readonly dir = mkdtempSync(join(tmpdir(), 'gd-drv-'));
  readonly stateDir = join(this.dir, 'state');
  readonly runDir = join(this.dir, 'run');
  readonly logs: string[] = [];
  readonly events: DomainEvent[] = [];
  private readonly drivers = new Set<ProcessDriver>();

  async driver(): Promise<ProcessDriver> {
    const push = (level: string) => (m: string) => this.logs.push(`${level} ${m}`);
    const d = new ProcessDriver({
      stateDir: this.stateDir,
      runDir: this.runDir,
      log: { info: push('info'), warn: push('warn'), error: push('error') },
      livenessIntervalMs: 200,
    });
    d.onEvent((e) => this.events.push(e));
    this.drivers.add(d);
    await d.init();
    return d;
  }

  async closeDriver(d: ProcessDriver): Promise<void> {
    await d.close();
    this.drivers.delete(d);
  }

  status(name: string): RuntimeStatus {
    return JSON.parse(readFileSync(join(this.runDir, 'domains', `${name}.json`), 'utf8')) as RuntimeStatus;
  }

  /** talk to a running guest's monitor directly (what the guest holds, independent of the driver) */
  async monitor(name: string): Promise<MonitorClient> {
    return MonitorClient.connect(this.status(name).monitor);
  }

  guestPids(): number[] {
    return processesMentioning(this.dir);
  }

  async cleanup(): Promise<void> {
    for (const d of this.drivers) await d.close();
    for (const pid of this.guestPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await waitFor('guest processes to die', () => this.guestPids().length === 0, 5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
