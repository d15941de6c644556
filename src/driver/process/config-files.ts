// The persistent configs on disk, written with group commit, and their index.
//
// Group commit: a config is durable (data and directory entry fsync'd) before its define is answered, but the writes
// that arrive meanwhile are committed together as a batch: each file written to a temp file and fdatasync'd in
// parallel, renamed into place, then one fsync of the directory for the whole batch. A few batches may be under way
// at once; operations on one name keep their order (a remove after a write wins), so an undefine never races a define.
//
// The index (<state>/domains.index.json) holds every committed config with its parsed definition, so a restart
// parses only the files that changed since it was written. It is a cache: the config files are the truth, an entry is
// used only when its XML is the file's very content, and a missing or unreadable index only costs parse time. It is
// written once changes have stopped for a moment, and when the daemon stops.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DomainDef } from './xml/domain.js';

export interface CommittedConfig {
  xml: string;
  def: DomainDef;
}

interface Op {
  name: string;
  /** null: remove */
  config: CommittedConfig | null;
  settle: (error: Error | null) => void;
}

const INDEX_VERSION = 1;
const TMP = /\.tmp-\d+-\d+$/;
/** commits under way at once: while one waits for the disk, the next batch is already on its way */
const MAX_COMMITS = 4;
/** the index is written once changes have stopped for this long (a stream of defines writes it once) */
const INDEX_QUIET_MS = 2000;

export class ConfigFiles {
  private pending: Op[] = [];
  /** commits under way, and the names they hold */
  private commits = 0;
  private readonly busy = new Set<string>();
  private tmpCounter = 0;
  private readonly committed = new Map<string, CommittedConfig>();
  private indexTimer: NodeJS.Timeout | null = null;
  private indexDirty = false;

  constructor(
    private readonly dir: string,
    private readonly indexFile: string,
    private readonly pathOf: (name: string) => string,
  ) {}

  /** durable once resolved; commits with the other writes of its batch */
  write(name: string, xml: string, def: DomainDef): Promise<void> {
    return this.enqueue(name, { xml, def });
  }
  remove(name: string): Promise<void> {
    return this.enqueue(name, null);
  }

  /** every config file's content (temp files of an interrupted commit are removed) */
  readAll(): Array<{ file: string; name: string; xml: string }> {
    const out: Array<{ file: string; name: string; xml: string }> = [];
    for (const f of readdirSync(this.dir)) {
      const file = join(this.dir, f);
      if (TMP.test(f)) rmSync(file, { force: true });
      else if (f.endsWith('.xml')) out.push({ file, name: f.slice(0, -4), xml: readFileSync(file, 'utf8') });
    }
    return out;
  }

  /** the parsed definitions of the last index, by name; empty when there is none or it cannot be read */
  readIndex(): Map<string, CommittedConfig> {
    try {
      const data = JSON.parse(readFileSync(this.indexFile, 'utf8')) as { version: number; configs: Record<string, CommittedConfig> };
      if (data.version !== INDEX_VERSION || typeof data.configs !== 'object' || data.configs === null) return new Map();
      return new Map(Object.entries(data.configs));
    } catch {
      return new Map();
    }
  }

  /** what is on disk after loading: the index to write covers exactly these */
  loaded(configs: Iterable<[string, CommittedConfig]>, indexIsCurrent: boolean): void {
    this.committed.clear();
    for (const [name, c] of configs) this.committed.set(name, c);
    if (!indexIsCurrent) this.changed();
  }

  /** write the index now if it is behind (at stop) */
  flushIndex(): void {
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = null;
    if (!this.indexDirty) return;
    this.indexDirty = false;
    try {
      const tmp = `${this.indexFile}.tmp-${process.pid}-0`;
      writeFileSync(tmp, JSON.stringify({ version: INDEX_VERSION, configs: Object.fromEntries(this.committed) }), { mode: 0o600 });
      renameSync(tmp, this.indexFile);
    } catch {
      // a cache: the next start parses what it cannot take from it
    }
  }

  private changed(): void {
    this.indexDirty = true;
    if (this.indexTimer) this.indexTimer.refresh();
    else {
      this.indexTimer = setTimeout(() => {
        this.indexTimer = null;
        this.flushIndex();
      }, INDEX_QUIET_MS);
      this.indexTimer.unref();
    }
  }

  private enqueue(name: string, config: CommittedConfig | null): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ name, config, settle: (error) => (error ? reject(error) : resolve()) });
      this.drain();
    });
  }

  /**
   * Start a commit of what is pending, up to MAX_COMMITS at once; an operation on a name that an unfinished commit
   * holds waits for it (and so does every later one on that name), so a name's operations reach the disk in order.
   */
  private drain(): void {
    while (this.pending.length > 0 && this.commits < MAX_COMMITS) {
      const batch: Op[] = [];
      const rest: Op[] = [];
      const held = new Set<string>();
      for (const op of this.pending) {
        if (this.busy.has(op.name) || held.has(op.name)) {
          held.add(op.name);
          rest.push(op);
        } else batch.push(op);
      }
      if (batch.length === 0) return;
      this.pending = rest;
      const names = new Set(batch.map((op) => op.name));
      for (const name of names) this.busy.add(name);
      this.commits++;
      void this.commit(batch).finally(() => {
        for (const name of names) this.busy.delete(name);
        this.commits--;
        this.drain();
      });
    }
  }

  private async commit(batch: Op[]): Promise<void> {
    // the last operation on a name is the one that reaches the disk; the earlier ones share its outcome
    const last = new Map<string, Op>();
    for (const op of batch) last.set(op.name, op);
    const outcome = new Map<string, Error | null>();
    const staged = await Promise.all(
      [...last.values()].map(async (op) => {
        try {
          if (op.config === null) {
            await unlink(this.pathOf(op.name)).catch((err: NodeJS.ErrnoException) => {
              if (err.code !== 'ENOENT') throw err;
            });
            return { op, tmp: null };
          }
          const tmp = `${this.pathOf(op.name)}.tmp-${process.pid}-${++this.tmpCounter}`;
          const fh = await open(tmp, 'w', 0o600);
          try {
            await fh.writeFile(op.config.xml);
            await fh.datasync();
          } finally {
            await fh.close();
          }
          return { op, tmp };
        } catch (error) {
          outcome.set(op.name, error as Error);
          return null;
        }
      }),
    );
    await Promise.all(
      staged.map(async (s) => {
        if (!s?.tmp) return;
        try {
          await rename(s.tmp, this.pathOf(s.op.name));
        } catch (error) {
          outcome.set(s.op.name, error as Error);
          await unlink(s.tmp).catch(() => undefined);
        }
      }),
    );
    let dirError: Error | null = null;
    try {
      const dh = await open(this.dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch (error) {
      dirError = error as Error;
    }
    for (const s of staged) {
      if (!s) continue;
      if (dirError) outcome.set(s.op.name, dirError);
      else if (!outcome.has(s.op.name)) {
        if (s.op.config) this.committed.set(s.op.name, s.op.config);
        else this.committed.delete(s.op.name);
        outcome.set(s.op.name, null);
      }
    }
    this.changed();
    for (const op of batch) op.settle(outcome.get(op.name) ?? null);
  }
}
