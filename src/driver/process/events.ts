// Lifecycle events of the process driver's domains, with libvirt's event and detail numbers, to every listener
// (guestd's remote service forwards them to the clients that registered a callback).
import { LIFECYCLE_KINDS } from '../../libvirt/lifecycle.js';
import type { DomainEvent } from '../driver.js';
import type { Dom } from './domain-table.js';
import type { DriverLogger } from './options.js';

/** a domain as an event names it: stopped events carry the id the guest had */
export const eventRef = (dom: Dom): DomainEvent['domain'] => ({ uuid: dom.uuid, name: dom.name, id: dom.run ? dom.id : -1 });

export class DomainEvents {
  private readonly listeners = new Set<(event: DomainEvent) => void>();
  private readonly rebootListeners = new Set<(domain: DomainEvent['domain']) => void>();

  constructor(private readonly log: DriverLogger) {}

  on(listener: (event: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** libvirt's REBOOT event (VIR_DOMAIN_EVENT_ID_REBOOT): the guest was rebooted or reset */
  onReboot(listener: (domain: DomainEvent['domain']) => void): () => void {
    this.rebootListeners.add(listener);
    return () => this.rebootListeners.delete(listener);
  }

  emitReboot(domain: DomainEvent['domain']): void {
    for (const l of this.rebootListeners) {
      try {
        l({ ...domain });
      } catch (err) {
        this.log.error(`event listener failed: ${(err as Error).message}`);
      }
    }
  }

  emit(domain: DomainEvent['domain'], event: number, detail: number): void {
    const ev: DomainEvent = { domain: { ...domain }, kind: LIFECYCLE_KINDS[event] ?? 'defined', event, detail };
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.log.error(`event listener failed: ${(err as Error).message}`);
      }
    }
  }
}
