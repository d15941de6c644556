// Test bed for the process driver: a temp state/run dir, a driver with a captured log and events, and cleanup that
// kills every guest process started under the temp dir (found by its command line) so no test leaves one behind.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { processesMentioning, waitFor as waitUntil } from '../../helpers/guestd.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { DomainEvent } from '../../../src/driver/driver.js';
import { ProcessDriver } from '../../../src/driver/process/driver.js';
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

// process lookup and waiting are shared with the guestd tests
export { processesMentioning, sleep } from '../../helpers/guestd.js';

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  await waitUntil(what, check, timeoutMs, 25);
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
      timing: { livenessIntervalMs: 200 },
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
    return MonitorClient.connect(this.status(name).monitor, 5000);
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

/** a Bed and its driver for the tests of one describe block: made before them, cleaned up after */
export function driverBed(): { readonly bed: Bed; readonly d: ProcessDriver } {
  const made: { bed?: Bed; d?: ProcessDriver } = {};
  before(async () => {
    made.bed = new Bed();
    made.d = await made.bed.driver();
  });
  after(async () => made.bed?.cleanup());
  return {
    get bed() {
      return made.bed!;
    },
    get d() {
      return made.d!;
    },
  };
}
