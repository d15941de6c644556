// The restart rule (DESIGN §4): load every persistent config first, then reconcile the runtime status files,
// reconnecting only to a live pid that is the very process we started (start time); a persistent guest whose process
// died while the daemon was down is shut off, a transient one is gone. No persistent domain is ever lost.
import { isSameProcess, signalProcess } from '../../effects/processes.js';
import { SHUTOFF } from './constants.js';
import type { DriverContext } from './context.js';
import { newRunning } from './domain-table.js';
import type { GuestProcesses } from './guest-process.js';
import type { MonitorClient } from './monitor-client.js';
import { indexEntry, type IndexEntry } from './config-files.js';
import type { RuntimeStatus } from './store.js';
import { parseDomainXML, type DomainDef } from './xml/domain.js';

/**
 * 1. every persistent config, before anything looks at runtime state; a config that cannot be loaded is kept. A file
 * the index still describes is neither read nor parsed (the index is a cache of parsed definitions: config-files.ts).
 */
export function loadConfigs({ store, table, log }: DriverContext): void {
  const known = { saved: store.savedNames(), autostart: store.autostartNames() };
  const loaded = new Map<string, IndexEntry>();
  let parsed = 0;
  for (const config of store.listConfigs()) {
    const { file, name } = config;
    let def: DomainDef;
    let entry: IndexEntry;
    if (config.def) {
      def = config.def;
      entry = config.entry;
    } else {
      parsed++;
      try {
        def = parseDomainXML(config.xml);
      } catch (err) {
        log.error(`${file}: cannot load domain config, skipped (the file is kept): ${(err as Error).message}`);
        continue;
      }
      entry = indexEntry(config.stats, config.xml, def);
    }
    if (def.name !== name) {
      log.error(`${file}: the file name does not match the domain name '${def.name}'; skipped (the file is kept)`);
      continue;
    }
    const taken = table.get(def.uuid);
    if (taken) {
      log.error(`${file}: uuid ${def.uuid} is already used by '${taken.name}'; skipped`);
      continue;
    }
    table.add(table.create(def, def, known));
    loaded.set(name, entry);
  }
  store.configs.loaded(loaded, parsed);
}

/** 2. runtime status: reconnect to live guests, settle dead ones, drop what dead writers left */
export async function reconcileRuntime(ctx: DriverContext, processes: GuestProcesses): Promise<void> {
  // all at once: a guest still restoring (or hung) is waited for without holding up the others
  const ids = await Promise.all(
    ctx.store.listStatus().map(({ file, status }) =>
      reconcileOne(ctx, processes, file, status).catch((err: unknown) => {
        ctx.log.error(`${file}: cannot reconcile runtime status: ${(err as Error).message}`);
        return 0;
      }),
    ),
  );
  ctx.table.usedIds(ids);
  removeStalePartialImages(ctx);
}

/** returns the id of a reconnected guest, 0 otherwise */
async function reconcileOne(
  ctx: DriverContext,
  processes: GuestProcesses,
  file: string,
  status: RuntimeStatus | null,
): Promise<number> {
  const { store, table, log } = ctx;
  if (!status) {
    log.warn(`${file}: unreadable runtime status, removed`);
    store.removeFile(file);
    return 0;
  }
  const known = table.get(status.uuid);
  // only a non-zero pid that is alive and is the very process we started (start time) is reconnected
  const same = status.pid > 0 && isSameProcess(status.pid, status.startTime);
  let monitor: MonitorClient | null = null;
  let live: DomainDef | null = null;
  if (same && status.incoming) {
    // its migration's FINISH3 went to the daemon that died: as libvirt's recovery does, the incoming guest is killed
    // (the source still has its paused copy)
    log.warn(`domain '${status.name}': its incoming migration was not finished; killing process ${status.pid}`);
    signalProcess(status.pid, status.startTime, 'SIGKILL');
  } else if (same) {
    try {
      live = parseDomainXML(status.xml);
    } catch (err) {
      live = known?.config ?? null;
      if (!live) log.error(`domain '${status.name}': unreadable live definition (${(err as Error).message})`);
    }
    try {
      if (!live) throw new Error('no definition to manage it with');
      monitor = await processes.reconnect({ ...status, monitorPath: status.monitor });
      if (monitor.greeting.uuid !== status.uuid) throw new Error(`monitor answers for uuid ${monitor.greeting.uuid}`);
    } catch (err) {
      monitor?.close();
      monitor = null;
      log.error(
        `domain '${status.name}': process ${status.pid} is alive but cannot be managed (${(err as Error).message}); killing it`,
      );
      signalProcess(status.pid, status.startTime, 'SIGKILL');
    }
  }
  if (!monitor || !live) {
    store.removeFile(file);
    store.removeFile(status.monitor);
    if (known) {
      log.warn(`domain '${status.name}': its process ${status.pid} ended while the daemon was down; now shut off`);
      known.state = 'shutoff';
      known.reason = store.hasManagedSave(known.name) ? SHUTOFF.SAVED : SHUTOFF.UNKNOWN;
    } else {
      log.warn(`transient domain '${status.name}': its process ${status.pid} ended while the daemon was down; gone`);
    }
    return 0;
  }
  const dom = known ?? table.create(null, live);
  if (!known) table.add(dom);
  dom.live = live;
  dom.id = status.id;
  dom.state = 'running';
  dom.reason = status.reason;
  dom.run = newRunning({
    pid: status.pid,
    startTime: status.startTime,
    monitorPath: status.monitor,
    monitor,
    startedAt: status.startedAt,
  });
  if (!processes.follow(dom, monitor) && dom.config && store.hasManagedSave(dom.name)) {
    // the image it was restored from (the daemon stopped before removing it): restoring it later would roll the
    // running guest back in time
    log.warn(`domain '${dom.name}' runs from its managed save image: removing the image`);
    store.removeManagedSave(dom.name);
  }
  if (status.persistent !== (dom.config !== null)) await processes.writeStatus(dom);
  log.info(`domain '${dom.name}': reconnected to process ${status.pid} (id ${status.id})`);
  return status.id;
}

/**
 * `<name>.save.part-<pid>` left by a guest that died mid-save (a finished save is renamed into place). Its writer is
 * gone unless the pid is one of the guests just reconnected (identified by start time): a pid that is free, a
 * zombie, or another process now does not write it any more.
 */
function removeStalePartialImages({ store, table, log }: DriverContext): void {
  const writers = new Set(table.all().flatMap((d) => (d.run ? [d.run.pid] : [])));
  for (const part of store.listPartialImages()) {
    if (writers.has(part.pid)) continue;
    log.warn(`${part.file}: removing the partial image of an interrupted save`);
    store.removeFile(part.file);
  }
  // no migration in survives a restart: its runtime, if it got the image, runs from memory now; else it was killed
  for (const file of store.listIncomingLeftovers()) {
    log.warn(`${file}: removing what an interrupted incoming migration left`);
    store.removeFile(file);
  }
}
