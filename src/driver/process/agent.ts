// Calls answered by a guest's agent: its clock (DOMAIN_GET_TIME, DOMAIN_SET_TIME). A guest without an agent, or whose
// agent does not answer, fails the call as libvirt's QEMU driver does (ARGUMENT_UNSUPPORTED, AGENT_UNRESPONSIVE).
import type { GuestTime } from '../driver.js';
import type { DriverContext } from './context.js';
import { definitionOf, monitorOf, runningOf, type Dom } from './domain-table.js';
import { agentUnresponsive, argumentUnsupported, invalidArg, operationFailed } from './errors.js';
import { MonitorCommandError, type MonitorClient } from './monitor-client.js';

export class GuestAgent {
  constructor(private readonly ctx: DriverContext) {}

  async getTime(uuid: string): Promise<GuestTime> {
    const dom = this.ctx.table.byUuid(uuid);
    const monitor = this.agentOf(dom);
    try {
      const ns = BigInt((await monitor.call('guest-get-time')).timeNs);
      return { seconds: ns / 1_000_000_000n, nseconds: Number(ns % 1_000_000_000n) };
    } catch (err) {
      throw agentError(dom, err);
    }
  }

  /** `sync`: the guest takes the host's time */
  async setTime(uuid: string, time: { sync: true } | GuestTime): Promise<void> {
    const dom = this.ctx.table.byUuid(uuid);
    const monitor = this.agentOf(dom);
    let args: { timeNs?: string } = {};
    if (!('sync' in time)) {
      if (time.seconds < 0n || time.nseconds < 0 || time.nseconds >= 1e9)
        throw invalidArg(`time ${time.seconds}.${time.nseconds} is out of range`);
      args = { timeNs: (time.seconds * 1_000_000_000n + BigInt(time.nseconds)).toString() };
    }
    try {
      await monitor.call('guest-set-time', args);
    } catch (err) {
      throw agentError(dom, err);
    }
  }

  private agentOf(dom: Dom): MonitorClient {
    runningOf(dom);
    if (!definitionOf(dom).behavior.agent)
      throw argumentUnsupported(
        `guestd guest agent is not configured for domain '${dom.name}'; set agent="yes" in its <gd:behavior> metadata`,
      );
    return monitorOf(dom);
  }
}

function agentError(dom: Dom, err: unknown): Error {
  if (err instanceof MonitorCommandError) {
    if (err.errorClass === 'AgentUnavailable') return agentUnresponsive(`domain '${dom.name}': ${err.message}`);
    if (err.errorClass === 'AgentNotConfigured') return argumentUnsupported(`guestd guest agent is not configured for domain '${dom.name}'`);
    if (err.errorClass === 'InvalidArgument') return invalidArg(err.message);
  }
  return operationFailed(`domain '${dom.name}': ${(err as Error).message}`, err);
}
