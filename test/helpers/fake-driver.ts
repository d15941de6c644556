// An in-memory Driver for unit tests of guestd's protocol layer: domains are records, jobs are scripted. The real
// process driver is exercised by the integration tests.
import type { JobProgress } from '../../src/libvirt/job.js';
import type { DomainEvent, DomainRecord, Driver, DriverStartFlags, DriverUndefineFlags } from '../../src/driver/driver.js';
import { LibvirtError, VirErr, VirFrom } from '../../src/libvirt/error.js';

export class FakeDriver implements Driver {
  readonly type = 'guestd';
  readonly domains = new Map<string, DomainRecord>();
  readonly calls: string[] = [];
  job: JobProgress = { type: 'none' };
  /** resolves a pending managed save */
  saveGate: Promise<void> = Promise.resolve();
  private nextId = 1;
  private listeners = new Set<(e: DomainEvent) => void>();

  add(name: string, uuid: string, running: boolean, extra: Partial<DomainRecord> = {}): DomainRecord {
    const d: DomainRecord = {
      uuid,
      name,
      id: running ? this.nextId++ : -1,
      persistent: true,
      state: running ? 'running' : 'shutoff',
      reason: 1,
      autostart: false,
      hasManagedSave: false,
      maxMemKiB: 65536,
      memoryKiB: 65536,
      vcpus: 1,
      cpuTimeNs: 900_000_000n,
      osType: 'hvm',
      ...extra,
    };
    this.domains.set(uuid, d);
    return d;
  }

  async init(): Promise<void> {}
  async close(): Promise<void> {}
  list(): DomainRecord[] {
    return [...this.domains.values()];
  }
  lookupByUuid(uuid: string): DomainRecord {
    const d = this.domains.get(uuid);
    if (!d) throw new LibvirtError(VirErr.NO_DOMAIN, VirFrom.DOM, `Domain not found: no domain with matching uuid '${uuid}'`);
    return d;
  }
  lookupByName(name: string): DomainRecord {
    const d = this.list().find((x) => x.name === name);
    if (!d) throw new LibvirtError(VirErr.NO_DOMAIN, VirFrom.DOM, `Domain not found: no domain with matching name '${name}'`);
    return d;
  }
  lookupById(id: number): DomainRecord {
    const d = this.list().find((x) => x.id === id && id !== -1);
    if (!d) throw new LibvirtError(VirErr.NO_DOMAIN, VirFrom.DOM, `Domain not found: no domain with matching id ${id}`);
    return d;
  }
  async defineXML(xml: string): Promise<DomainRecord> {
    const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1] ?? 'unnamed';
    const uuid = /<uuid>([^<]+)<\/uuid>/.exec(xml)?.[1] ?? '00000000-0000-4000-8000-000000000001';
    this.calls.push(`define ${name}`);
    const d = this.add(name, uuid, false);
    this.emit(d, 0, 0);
    return d;
  }
  async undefine(uuid: string, flags: DriverUndefineFlags): Promise<void> {
    this.calls.push(`undefine ${uuid}${flags.managedSave ? ' managed-save' : ''}`);
    this.domains.delete(uuid);
  }
  async createXML(xml: string, _flags: DriverStartFlags): Promise<DomainRecord> {
    const d = await this.defineXML(xml);
    d.persistent = false;
    return this.create(d.uuid, {});
  }
  async create(uuid: string, flags: DriverStartFlags): Promise<DomainRecord> {
    const d = this.lookupByUuid(uuid);
    this.calls.push(`create ${d.name}${flags.bypassCache ? ' bypass' : ''}`);
    Object.assign(d, { id: this.nextId++, state: 'running', reason: 1, hasManagedSave: false });
    this.emit(d, 2, 0);
    return d;
  }
  async shutdown(uuid: string): Promise<void> {
    const d = this.lookupByUuid(uuid);
    this.calls.push(`shutdown ${d.name}`);
    Object.assign(d, { id: -1, state: 'shutoff', reason: 1 });
    this.emit(d, 5, 0);
  }
  async destroy(uuid: string): Promise<void> {
    const d = this.lookupByUuid(uuid);
    this.calls.push(`destroy ${d.name}`);
    Object.assign(d, { id: -1, state: 'shutoff', reason: 2 });
    this.emit(d, 5, 1);
  }
  getXMLDesc(uuid: string): string {
    const d = this.lookupByUuid(uuid);
    return `<domain type='guestd'><name>${d.name}</name><uuid>${d.uuid}</uuid></domain>`;
  }
  async managedSave(uuid: string, flags: { bypassCache?: boolean }): Promise<void> {
    const d = this.lookupByUuid(uuid);
    this.calls.push(`managedsave ${d.name}${flags.bypassCache ? ' bypass' : ''}`);
    await this.saveGate;
    Object.assign(d, { id: -1, state: 'shutoff', reason: 5, hasManagedSave: true });
    this.emit(d, 5, 5);
  }
  async managedSaveRemove(uuid: string): Promise<void> {
    this.lookupByUuid(uuid).hasManagedSave = false;
  }
  jobStats(uuid: string): JobProgress {
    this.lookupByUuid(uuid);
    return this.job;
  }
  async abortJob(uuid: string): Promise<void> {
    this.calls.push(`abort ${this.lookupByUuid(uuid).name}`);
  }
  async getTime(uuid: string): Promise<{ seconds: bigint; nseconds: number }> {
    this.lookupByUuid(uuid);
    return { seconds: 1_700_000_000n, nseconds: 5 };
  }
  async setTime(uuid: string, time: { sync: true } | { seconds: bigint; nseconds: number }): Promise<void> {
    this.calls.push(`settime ${this.lookupByUuid(uuid).name} ${'sync' in time ? 'sync' : String(time.seconds)}`);
  }
  async setAutostart(uuid: string, autostart: boolean): Promise<void> {
    this.lookupByUuid(uuid).autostart = autostart;
  }
  getMetadata(uuid: string, { uri }: { uri: string | null }): string {
    return `<state xmlns="${uri}" name="${this.lookupByUuid(uuid).name}"/>`;
  }
  async setMetadata(): Promise<void> {}
  hasRunningGuests(): boolean {
    return this.list().some((d) => d.id !== -1);
  }
  onEvent(listener: (event: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private emit(d: DomainRecord, event: number, detail: number): void {
    const kinds = ['defined', 'undefined', 'started', 'suspended', 'resumed', 'stopped'] as const;
    for (const l of this.listeners) l({ domain: { uuid: d.uuid, name: d.name, id: d.id }, kind: kinds[event]!, event, detail });
  }
}
