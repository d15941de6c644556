// A libvirt host in memory behind the orchestrator's Connection, timed by a FakeClock: guests that take so many ms
// to power off (or never do), saves that take so long, lifecycle events or none, a daemon that refuses connections
// or fails state reads. For the unit tests of the orchestrator's timing; the real connections and daemons are
// covered by test/integration and test/e2e. Everything a guest is asked is logged with its fake time.
import type {
  Connection,
  GuestInfo,
  GuestRef,
  LifecycleEvent,
  ListFilter,
  ManagedSaveOptions,
  StartOptions,
} from '../../src/connect/connection.js';
import { defaultConfig, type GuestsConfig } from '../../src/config/variables.js';
import type { OrchestratorEvent } from '../../src/orchestrator/events.js';
import type { Services } from '../../src/orchestrator/services.js';
import type { DomainState } from '../../src/libvirt/domain-state.js';
import { LibvirtError, VirErr, VirFrom } from '../../src/libvirt/error.js';
import type { JobProgress } from '../../src/libvirt/job.js';
import type { LifecycleKind } from '../../src/libvirt/lifecycle.js';
import type { FakeClock } from './fake-clock.js';
import { memoryFiles, type MemoryFiles } from './memory-files.js';

export interface FakeGuestSpec {
  name: string;
  /** default true */
  persistent?: boolean;
  /** default true */
  running?: boolean;
  /** ms from the shutdown request to power-off; null: the request is ignored (a stuck guest). Default 0 */
  shutdownMs?: number | null;
  /** ms a start (boot or restore) takes; default 0 */
  startMs?: number;
  /** ms a managed save takes; default 0 */
  saveMs?: number;
  /** a managed save fails with this message (OPERATION_FAILED) */
  saveError?: string;
  /** has a guest agent (SYNC_TIME); default true */
  agent?: boolean;
  /** already has a managed save image */
  saved?: boolean;
  /** a migration fails with this message (OPERATION_FAILED) */
  migrateError?: string;
  /** ms a migration takes; default 0 */
  migrateMs?: number;
  /** custom metadata elements by namespace URI (the per-guest policy) */
  metadata?: Record<string, string>;
  /** ms after a start until the guest agent answers (getTime); default 0 */
  agentMs?: number;
  /** gone (a transient guest that shut down) when its metadata is read: that read finds no domain */
  vanishesOnMetadataRead?: boolean;
}

export interface FakeGuest {
  readonly uuid: string;
  readonly name: string;
  readonly spec: FakeGuestSpec;
  id: number;
  state: DomainState;
  persistent: boolean;
  hasManagedSave: boolean;
  job: JobProgress;
  /** a power-off scheduled by a shutdown request */
  goingOff: boolean;
  /** fake time when it was last started */
  startedAt: number;
  metadata: Map<string, string>;
}

const SAVE_BYTES = 64 * 1024 * 1024;

const noDomain = (what: string): LibvirtError =>
  new LibvirtError(VirErr.NO_DOMAIN, VirFrom.DOM, `Domain not found: no domain with matching ${what}`);
const invalid = (message: string): LibvirtError => new LibvirtError(VirErr.OPERATION_INVALID, VirFrom.DOM, `Requested operation is not valid: ${message}`);

export class FakeHost {
  readonly guests = new Map<string, FakeGuest>();
  /** `<ms> <what> <guest>`, ms of fake time since the host was made */
  readonly log: string[] = [];
  /** whether lifecycle events can be subscribed to (a virsh backend cannot) */
  events = true;
  /** subscriptions work, but no event is ever delivered (missed events: only the state poll sees a power-off) */
  dropEvents = false;
  /** the next so many connections are refused (a daemon not up yet) */
  refuseConnects = 0;
  /** a guest powering off is in libvirt's 'shutdown' state (QEMU's and guestd's stay 'running' until off) */
  showsShutdown = false;
  /** the next so many state reads fail (a busy or dying daemon) */
  failStates = 0;
  /** the next so many lookups fail, not with NO_DOMAIN (a busy or dying daemon) */
  failLookups = 0;
  /** the next so many metadata reads fail (a busy or dying daemon) */
  failMetadataReads = 0;
  private readonly origin: number;
  private nextId = 1;
  private readonly listeners = new Set<(e: LifecycleEvent) => void>();

  constructor(
    readonly clock: FakeClock,
    readonly uri = 'fake:///system',
  ) {
    this.origin = clock.now();
  }

  add(spec: FakeGuestSpec): FakeGuest {
    const running = spec.running ?? true;
    const g: FakeGuest = {
      uuid: `00000000-0000-4000-8000-${String(this.guests.size + 1).padStart(12, '0')}`,
      name: spec.name,
      spec,
      id: running ? this.nextId++ : -1,
      state: running ? 'running' : 'shutoff',
      persistent: spec.persistent ?? true,
      hasManagedSave: spec.saved ?? false,
      job: { type: 'none' },
      goingOff: false,
      startedAt: this.clock.now(),
      metadata: new Map(Object.entries(spec.metadata ?? {})),
    };
    this.guests.set(g.uuid, g);
    return g;
  }

  guest(name: string): FakeGuest {
    const g = [...this.guests.values()].find((x) => x.name === name);
    if (!g) throw new Error(`no fake guest ${name}`);
    return g;
  }

  /** the log lines about one guest, or with one verb */
  logOf(filter: string): string[] {
    return this.log.filter((l) => l.split(' ').includes(filter));
  }

  /** the fake-time ms of the first log line with `verb` for `name`, or undefined */
  when(verb: string, name: string): number | undefined {
    const line = this.log.find((l) => l.endsWith(` ${verb} ${name}`));
    return line === undefined ? undefined : Number(line.split(' ')[0]);
  }

  connect(): Connection {
    if (this.refuseConnects > 0) {
      this.refuseConnects--;
      this.note('connect-refused', '-');
      throw new LibvirtError(VirErr.OPERATION_FAILED, VirFrom.RPC, `Failed to connect socket to '${this.uri}': Connection refused`);
    }
    this.note('connect', '-');
    return this.connection();
  }

  private note(what: string, name: string): void {
    this.log.push(`${this.clock.now() - this.origin} ${what} ${name}`);
  }

  private find(ref: GuestRef | string): FakeGuest {
    const key = typeof ref === 'string' ? ref : ref.uuid;
    const g = this.guests.get(key) ?? [...this.guests.values()].find((x) => x.name === key);
    if (!g) throw noDomain(typeof ref === 'string' ? `name or uuid '${key}'` : `uuid '${key}'`);
    return g;
  }

  private running(ref: GuestRef): FakeGuest {
    const g = this.find(ref);
    if (g.id === -1) throw invalid('domain is not running');
    return g;
  }

  private emit(g: FakeGuest, kind: LifecycleKind): void {
    if (this.dropEvents) return;
    const event: LifecycleEvent = { guest: refOf(g), kind, event: 0, detail: 0, receivedAt: this.clock.now() };
    for (const l of [...this.listeners]) l(event);
  }

  private off(g: FakeGuest, how: string): void {
    g.id = -1;
    g.state = 'shutoff';
    g.goingOff = false;
    this.note(how, g.name);
    if (!g.persistent) this.guests.delete(g.uuid); // a transient guest is gone once stopped
    this.emit(g, 'stopped');
  }

  private async managedSave(ref: GuestRef, options: ManagedSaveOptions = {}): Promise<void> {
    const g = this.running(ref);
    if (!g.persistent) throw invalid('cannot do managed save for transient domain');
    this.note('save', g.name);
    if (g.spec.saveError !== undefined) throw new LibvirtError(VirErr.OPERATION_FAILED, VirFrom.DOM, g.spec.saveError);
    const end = this.clock.now() + (g.spec.saveMs ?? 0);
    const begun = this.clock.now();
    g.job = { type: 'bounded', dataTotal: SAVE_BYTES, dataProcessed: 0 };
    try {
      while (this.clock.now() < end) {
        await this.clock.sleep(Math.min(options.progressIntervalMs ?? 1000, end - this.clock.now()), options.signal);
        const processed = Math.round((SAVE_BYTES * (this.clock.now() - begun)) / (end - begun));
        g.job = { type: 'bounded', dataTotal: SAVE_BYTES, dataProcessed: processed, dataRemaining: SAVE_BYTES - processed };
        options.onProgress?.(g.job);
      }
    } catch {
      g.job = { type: 'none' };
      this.note('save-aborted', g.name);
      throw new LibvirtError(VirErr.OPERATION_ABORTED, VirFrom.DOM, "operation aborted: job 'domain save' canceled by client");
    }
    g.job = { type: 'none' };
    g.hasManagedSave = true;
    this.off(g, 'saved');
  }

  private connection(): Connection {
    return {
      uri: this.uri,
      backend: 'native',
      listGuests: async (filter: ListFilter = {}): Promise<GuestInfo[]> => {
        const which = filter.which ?? 'active';
        return [...this.guests.values()]
          .filter((g) => which === 'all' || (which === 'active') === (g.id !== -1))
          .filter((g) => !filter.persistence || (filter.persistence === 'persistent') === g.persistent)
          .map((g) => ({ ...refOf(g), state: g.state, persistent: g.persistent }));
      },
      lookup: async (uuidOrName) => {
        if (this.failLookups > 0) {
          this.failLookups--;
          throw new LibvirtError(VirErr.OPERATION_TIMEOUT, VirFrom.DOM, 'cannot acquire state change lock');
        }
        return refOf(this.find(uuidOrName));
      },
      state: async (ref) => {
        if (this.failStates > 0) {
          this.failStates--;
          throw new LibvirtError(VirErr.OPERATION_TIMEOUT, VirFrom.DOM, 'cannot acquire state change lock');
        }
        const g = this.find(ref);
        return { state: g.goingOff && this.showsShutdown ? 'shutdown' : g.state, reason: 1 };
      },
      isPersistent: async (ref) => {
        return this.find(ref).persistent;
      },
      hasManagedSave: async (ref) => {
        return this.find(ref).hasManagedSave;
      },
      managedSave: (ref, options) => this.managedSave(ref, options),
      migrate: async (ref, _destUri, options = {}) => {
        const g = this.running(ref);
        this.note('migrate', g.name);
        if (g.spec.migrateError !== undefined) throw new LibvirtError(VirErr.OPERATION_FAILED, VirFrom.DOM, g.spec.migrateError);
        try {
          if (g.spec.migrateMs) await this.clock.sleep(g.spec.migrateMs, options.signal);
        } catch {
          this.note('migrate-aborted', g.name);
          throw new LibvirtError(VirErr.OPERATION_ABORTED, VirFrom.DOM, "operation aborted: job 'migration out' canceled by client");
        }
        this.off(g, 'migrated');
        if (options.undefineSource) this.guests.delete(g.uuid);
      },
      jobInfo: async (ref) => {
        return this.find(ref).job;
      },
      abortJob: async (ref) => {
        this.note('abort', this.find(ref).name);
      },
      managedSaveRemove: async (ref) => {
        this.find(ref).hasManagedSave = false;
      },
      start: async (ref, options: StartOptions = {}) => {
        const g = this.find(ref);
        if (g.id !== -1) throw invalid('domain is already running');
        this.note(g.hasManagedSave && !options.forceBoot ? 'restore' : 'boot', g.name);
        if (g.spec.startMs) await this.clock.sleep(g.spec.startMs);
        Object.assign(g, { id: this.nextId++, state: 'running', hasManagedSave: false, startedAt: this.clock.now() });
        this.emit(g, 'started');
        return refOf(g);
      },
      shutdown: async (ref) => {
        const g = this.running(ref);
        this.note('shutdown', g.name);
        const ms = g.spec.shutdownMs === undefined ? 0 : g.spec.shutdownMs;
        if (ms === null || g.goingOff) return;
        g.goingOff = true;
        const id = g.id;
        this.clock.at(this.clock.now() + ms, () => {
          if (g.id === id && g.goingOff) this.off(g, 'off');
        });
      },
      destroy: async (ref) => {
        this.off(this.running(ref), 'destroyed');
      },
      setTime: async (ref) => {
        const g = this.running(ref);
        if (!(g.spec.agent ?? true)) throw new LibvirtError(VirErr.ARGUMENT_UNSUPPORTED, VirFrom.QEMU, 'argument unsupported: QEMU guest agent is not configured');
        this.note('settime', g.name);
      },
      getTime: async (ref) => {
        const g = this.running(ref);
        if (!(g.spec.agent ?? true) || this.clock.now() < g.startedAt + (g.spec.agentMs ?? 0)) {
          throw new LibvirtError(VirErr.AGENT_UNRESPONSIVE, VirFrom.QEMU, 'Guest agent is not responding: QEMU guest agent is not connected');
        }
        return { seconds: Math.floor(this.clock.now() / 1000), nseconds: 0 };
      },
      getMetadata: async (ref, uri) => {
        if (this.failMetadataReads > 0) {
          this.failMetadataReads--;
          throw new LibvirtError(VirErr.OPERATION_TIMEOUT, VirFrom.DOM, 'cannot acquire state change lock');
        }
        const g = this.find(ref);
        if (g.spec.vanishesOnMetadataRead) {
          this.guests.delete(g.uuid);
          throw noDomain(`uuid '${g.uuid}'`);
        }
        return g.metadata.get(uri) ?? null;
      },
      setMetadata: async (ref, uri, _key, xml) => {
        const g = this.find(ref);
        if (xml === null) g.metadata.delete(uri);
        else g.metadata.set(uri, xml);
      },
      onLifecycle: async (listener) => {
        if (!this.events) throw new LibvirtError(VirErr.NO_SUPPORT, VirFrom.NONE, 'this backend has no lifecycle events');
        this.listeners.add(listener);
        return async () => void this.listeners.delete(listener);
      },
      close: async () => {},
    };
  }
}

const refOf = (g: FakeGuest): GuestRef => ({ uuid: g.uuid, name: g.name, id: g.id });

export interface FakeServices extends Services {
  files: MemoryFiles;
  clock: FakeClock;
  /** everything reported, in order */
  readonly events: OrchestratorEvent[];
  /** what systemd was told: `<ms> status <text>` or `<ms> extend <ms>` */
  readonly notices: string[];
}

/** Services over fake hosts (by URI; any other URI cannot be reached), memory files, no run lock to take. */
export function fakeServices(clock: FakeClock, hosts: FakeHost[], files = memoryFiles()): FakeServices {
  const origin = clock.now();
  const events: OrchestratorEvent[] = [];
  const notices: string[] = [];
  const at = (): number => clock.now() - origin;
  return {
    clock,
    files,
    events,
    notices,
    async connect(uri) {
      const host = hosts.find((h) => h.uri === uri);
      if (!host) throw new LibvirtError(VirErr.OPERATION_FAILED, VirFrom.RPC, `Failed to connect socket to '${uri}': No such file or directory`);
      return host.connect();
    },
    lock: async () => ({ release: async () => undefined }),
    supervisor: {
      status: (text) => void notices.push(`${at()} status ${text}`),
      extendTimeout: (ms) => void notices.push(`${at()} extend ${ms}`),
      ready: () => undefined,
      stopping: () => undefined,
      settled: async () => undefined,
    },
    report: (event) => void events.push(event),
  };
}

/** the built-in defaults for these URIs, without connection retries unless told, and `overrides` */
export function guestsConfig(hosts: FakeHost[], overrides: Partial<GuestsConfig> = {}): GuestsConfig {
  return { ...defaultConfig(), URIS: hosts.map((h) => h.uri), CONNECT_RETRIES: 0, ...overrides };
}
