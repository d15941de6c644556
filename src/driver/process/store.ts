// The driver's files (DESIGN §4):
//   <state>/domains/<name>.xml     persistent configs (0600, atomic, group commit: config-files.ts)
//   <state>/domains.index.json     the configs with their parsed definitions: a cache for restarts
//   <state>/autostart/<name>       autostart markers (content: uuid)
//   <state>/save/<name>.save       managed save images
//   <state>/save/<name>.incoming   the image an incoming migration writes (.cancel beside it: the migration is off)
//   <state>/log/<name>.log         guest runtime logs
//   <run>/domains/<name>.json      runtime status of a running guest (pid, start time, monitor, id, live XML)
//   <run>/domains/<uuid>.sock      monitor sockets (uuid: short, fixed length — unix socket paths are limited)
//   <run>/domains/<uuid>.in.sock   where an incoming migration listens when the source is on this host
//   <run>/autostarted              marker: autostart already ran since the run dir was created (host boot)
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { partialImage } from '../../guest/image.js';
import { cancelMarker } from '../../guest/migration-stream.js';
import { ConfigFiles, type ConfigFile } from './config-files.js';
import type { DomainDef } from './xml/domain.js';

export interface RuntimeStatus {
  uuid: string;
  name: string;
  id: number;
  pid: number;
  /** /proc/PID/stat field 22 */
  startTime: string;
  monitor: string;
  startedAt: string;
  /** running reason (BOOTED 1, RESTORED 3) */
  reason: number;
  persistent: boolean;
  /** the live definition (transient guests have no other) */
  xml: string;
  /** restored by an incoming migration, paused until its FINISH3, which no restarted daemon can get: it is killed */
  incoming?: true;
}

export class Store {
  readonly configs: ConfigFiles;

  constructor(
    readonly stateDir: string,
    readonly runDir: string,
  ) {
    this.configs = new ConfigFiles(this.configDir, join(stateDir, 'domains.index.json'), this.configPath);
  }

  private dir(...parts: string[]): string {
    return join(...parts);
  }
  get configDir(): string {
    return this.dir(this.stateDir, 'domains');
  }
  get autostartDir(): string {
    return this.dir(this.stateDir, 'autostart');
  }
  get saveDir(): string {
    return this.dir(this.stateDir, 'save');
  }
  get logDir(): string {
    return this.dir(this.stateDir, 'log');
  }
  get statusDir(): string {
    return this.dir(this.runDir, 'domains');
  }

  ensureDirs(): void {
    for (const d of [this.configDir, this.autostartDir, this.saveDir, this.logDir, this.statusDir])
      mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  configPath = (name: string): string => join(this.configDir, `${name}.xml`);
  savePath = (name: string): string => join(this.saveDir, `${name}.save`);
  /** where the guest process `pid` writes a save before renaming it into place */
  partialImagePath = (name: string, pid: number): string => partialImage(this.savePath(name), pid);
  /** the image an incoming migration of `name` is written to, and restored from */
  incomingImagePath = (name: string): string => join(this.saveDir, `${name}.incoming`);
  incomingSocketPath = (uuid: string): string => join(this.statusDir, `${uuid}.in.sock`);
  logPath = (name: string): string => join(this.logDir, `${name}.log`);
  statusPath = (name: string): string => join(this.statusDir, `${name}.json`);
  monitorPath = (uuid: string): string => join(this.statusDir, `${uuid}.sock`);
  autostartPath = (name: string): string => join(this.autostartDir, name);

  /** every config file (name from the file name): its definition from the index, or its content to parse */
  listConfigs(): ConfigFile[] {
    return this.configs.scan();
  }

  /** durable once resolved (`xml` is `def` formatted) */
  writeConfig(name: string, xml: string, def: DomainDef): Promise<void> {
    return this.configs.write(name, xml, def);
  }
  /** durable once resolved, and after every write of that name asked for before */
  removeConfig(name: string): Promise<void> {
    return this.configs.remove(name);
  }

  /** names with a managed save image, in one directory read (the table's listings) */
  savedNames(): Set<string> {
    return new Set(readdirSync(this.saveDir).flatMap((f) => (f.endsWith('.save') ? [f.slice(0, -5)] : [])));
  }
  autostartNames(): Set<string> {
    return new Set(readdirSync(this.autostartDir));
  }

  hasManagedSave(name: string): boolean {
    return existsSync(this.savePath(name));
  }
  removeManagedSave(name: string): void {
    rmSync(this.savePath(name), { force: true });
  }

  listPartialImages(): Array<{ file: string; pid: number }> {
    return readdirSync(this.saveDir)
      .map((f) => ({ f, m: /\.save\.part-(\d+)$/.exec(f) }))
      .filter((x) => x.m !== null)
      .map((x) => ({ file: join(this.saveDir, x.f), pid: Number(x.m?.[1]) }));
  }

  /** what incoming migrations left in the save dir: images, partial images, cancel markers */
  listIncomingLeftovers(): string[] {
    return readdirSync(this.saveDir)
      .filter((f) => /\.incoming(\.part|\.cancel)?$/.test(f))
      .map((f) => join(this.saveDir, f));
  }

  isAutostart(name: string): boolean {
    return existsSync(this.autostartPath(name));
  }
  async setAutostart(name: string, uuid: string, on: boolean): Promise<void> {
    if (on) await writeFileAtomic(this.autostartPath(name), `${uuid}\n`, { mode: 0o600 });
    else rmSync(this.autostartPath(name), { force: true });
  }

  listStatus(): Array<{ file: string; status: RuntimeStatus | null }> {
    return readdirSync(this.statusDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => {
        const file = join(this.statusDir, f);
        try {
          return { file, status: JSON.parse(readFileSync(file, 'utf8')) as RuntimeStatus };
        } catch {
          return { file, status: null };
        }
      });
  }
  async writeStatus(status: RuntimeStatus): Promise<void> {
    await writeFileAtomic(this.statusPath(status.name), `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
  }
  /** at once, between spawning a guest and anything else */
  writeStatusSync(status: RuntimeStatus): void {
    writeFileAtomic.sync(this.statusPath(status.name), `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
  }
  removeStatus(name: string): void {
    rmSync(this.statusPath(name), { force: true });
  }
  removeFile(file: string): void {
    try {
      unlinkSync(file);
    } catch {
      /* gone */
    }
  }

  /** the runtime waiting for the incoming image `file` gives up (src/guest/main.ts looks for the marker) */
  markIncomingCancelled(file: string): void {
    try {
      writeFileSync(cancelMarker(file), '', { mode: 0o600 });
    } catch {
      /* the save dir is gone: so is the runtime's image */
    }
  }
  /** the incoming image `file` and its cancel marker, once the migration is over */
  removeIncoming(file: string): void {
    this.removeFile(cancelMarker(file));
    this.removeFile(file);
  }

  /** true once per run dir: whether autostart should run now (libvirt does it once per host boot) */
  claimAutostart(): boolean {
    const marker = join(this.runDir, 'autostarted');
    if (existsSync(marker)) return false;
    writeFileAtomic.sync(marker, `${new Date().toISOString()}\n`, { mode: 0o600 });
    return true;
  }
}
