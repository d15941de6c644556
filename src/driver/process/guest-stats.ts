// What the host sees of a running process guest, as libvirt's statistics calls report it: memory (the guest's
// current size and its process's resident set), whether the driver can talk to it (control info), its virtual CPUs.
import { processRssKiB } from '../../effects/host-facts.js';
import { CLOCK_TICKS_PER_SECOND, processStat } from '../../effects/processes.js';
import type { DomainControlInfo, DomainMemoryStats, VcpuInfo } from '../driver.js';
import type { DriverContext } from './context.js';
import { definitionOf, runningOf, type Dom } from './domain-table.js';
import { operationInvalid } from './errors.js';

export class GuestStats {
  constructor(private readonly ctx: DriverContext) {}

  memoryStats(dom: Dom): DomainMemoryStats {
    const run = runningOf(dom);
    return { actualKiB: definitionOf(dom).currentMemoryKiB, rssKiB: processRssKiB(run.pid) ?? 0 };
  }

  /** a save job holds the guest ("job", since it began); otherwise the driver can talk to it ("ok") */
  controlInfo(dom: Dom): DomainControlInfo {
    runningOf(dom);
    if (dom.job) return { state: 'job', stateTimeMs: Math.max(0, this.ctx.clock.now() - dom.job.startedAt) };
    return { state: 'ok', stateTimeMs: 0 };
  }

  /** the guest process is its one worker: its CPU time is shared out over the virtual CPUs */
  vcpus(dom: Dom, hostCpus: number[]): VcpuInfo[] {
    if (!dom.run) throw operationInvalid('cannot list vcpus for an inactive domain');
    const { pid } = dom.run;
    const n = definitionOf(dom).vcpus;
    const stat = processStat(pid);
    const totalNs = (BigInt(stat?.cpuTicks ?? 0) * 1_000_000_000n) / BigInt(CLOCK_TICKS_PER_SECOND);
    const cpu = stat?.lastCpu ?? 0;
    return Array.from({ length: n }, (_, number) => ({
      number,
      state: 'running', // as QEMU reports them, paused or not
      cpuTimeNs: number === 0 ? totalNs - (totalNs / BigInt(n)) * BigInt(n - 1) : totalNs / BigInt(n),
      cpu,
      affinity: hostCpus,
    }));
  }
}
