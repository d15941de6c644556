// The persistent configs on disk, written with group commit, and their index.
//
// Group commit: a config is durable (data and directory entry fsync'd) before its define is answered, but the writes
// that arrive meanwhile are committed together as a batch: each file written to a temp file and fdatasync'd in
// parallel, renamed into place, then one fsync of the directory for the whole batch. A few batches may be under way
// at once; operations on one name keep their order (a remove after a write wins), so an undefine never races a define.
//
// The index (<state>/domains.index.json) holds every committed config's parsed definition with the file's stat
// (size, mtime, inode) as it was right after the commit, so a restart reads and parses only the files that changed
// since. It is a cache: the config files are the truth. An entry is used only while the file's stat is the one it
// recorded; when that mtime is close to the moment the stat was taken (git's "racily clean" case: an edit in the same
// timestamp tick would not show), the file is read and its checksum compared as well. A missing or unreadable index
// only costs parse time. It is written once changes have stopped for a moment, and when the daemon stops.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type BigIntStats } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { operationFailed } from './errors.js';
import type { DomainDef } from './xml/domain.js';

/** what the index keeps of a config file */
export interface IndexEntry {
  /** size:mtimeNs:ino of the file as committed */
  stamp: string;
  mtimeNs: string;
  /** when the stamp was taken (wall clock, ns) */
  at: string;
  /** sha256 of the content, checked when the stamp alone cannot tell */
  sha: string;
  def: DomainDef;
}

/** a config file as a restart finds it: its definition from the index when the index still describes it */
export type ConfigFile = { file: string; name: string } & (
  | { def: DomainDef; xml: null; entry: IndexEntry }
  | { def: null; xml: string; stats: BigIntStats }
);

interface Op {
  name: string;
  /** null: remove */
  config: { xml: string; def: DomainDef } | null;
  settle: (error: Error | null) => void;
}

const INDEX_VERSION = 2;
const TMP = /\.tmp-\d+-\d+$/;
/** commits under way at once: while one waits for the disk, the next batch is already on its way */
const MAX_COMMITS = 4;
/** the index is written once changes have stopped for this long (a stream of defines writes it once) */
const INDEX_QUIET_MS = 2000;
/** an mtime closer than this to its stamp's moment may hide a later edit in the same timestamp tick */
const RACY_NS = 1_000_000_000n;

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const stampOf = (st: BigIntStats): string => `${st.size}:${st.mtimeNs}:${st.ino}`;
const checksum = (xml: string): string => createHash('sha256').update(xml).digest('base64');
export const indexEntry = (st: BigIntStats, xml: string, def: DomainDef): IndexEntry => ({
  stamp: stampOf(st),
  mtimeNs: String(st.mtimeNs),
  at: String(nowNs()),
  sha: checksum(xml),
  def,
});
const settled = (e: IndexEntry): boolean => BigInt(e.mtimeNs) + RACY_NS <= BigInt(e.at);

export class ConfigFiles {
  private pending: Op[] = [];
  /** commits under way, and the names they hold */
  private commits = 0;
  private readonly busy = new Set<string>();
  private tmpCounter = 0;
  private readonly committed = new Map<string, IndexEntry>();
  private indexTimer: NodeJS.Timeout | null = null;
  private indexDirty = false;
  private scannedIndexSize = 0;

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

  /**
   * every config file (temp files of an interrupted commit are removed): its definition from the index when the
   * index still describes the file, else its content
   */
  scan(): ConfigFile[] {
    const index = this.readIndex();
    this.scannedIndexSize = index.size;
    const out: ConfigFile[] = [];
    for (const f of readdirSync(this.dir)) {
      const file = join(this.dir, f);
      if (TMP.test(f)) {
        rmSync(file, { force: true });
        continue;
      }
      if (!f.endsWith('.xml')) continue;
      const name = f.slice(0, -4);
      const stats = statSync(file, { bigint: true });
      const entry = index.get(name);
      const same = entry !== undefined && entry.stamp === stampOf(stats);
      if (same && settled(entry)) {
        out.push({ file, name, def: entry.def, xml: null, entry });
        continue;
      }
      const xml = readFileSync(file, 'utf8');
      if (same && entry.sha === checksum(xml)) out.push({ file, name, def: entry.def, xml: null, entry });
      else out.push({ file, name, def: null, xml, stats });
    }
    return out;
  }

  /** the entries of the last index, by name; empty when there is none or it cannot be read */
  readIndex(): Map<string, IndexEntry> {
    try {
      const data = JSON.parse(readFileSync(this.indexFile, 'utf8')) as { version: number; configs: Record<string, IndexEntry> };
      if (data.version !== INDEX_VERSION || typeof data.configs !== 'object' || data.configs === null) return new Map();
      return new Map(Object.entries(data.configs));
    } catch {
      return new Map();
    }
  }

  /** what is on disk after loading (`parsed`: how many files the index did not describe): the index covers these */
  loaded(configs: Iterable<[string, IndexEntry]>, parsed: number): void {
    this.committed.clear();
    for (const [name, entry] of configs) this.committed.set(name, entry);
    if (parsed > 0 || this.committed.size !== this.scannedIndexSize) this.changed();
  }

  /** write the index now if it is behind (at stop) */
  flushIndex(): void {
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = null;
    if (!this.indexDirty) return;
    this.indexDirty = false;
    try {
      // entries stamped right after their write are racily clean: once their mtime is a tick behind, a file that still
      // has its stamp and its checksum is settled (the next start need not read it); the rest is checked at the start
      const now = nowNs();
      for (const [name, entry] of this.committed) {
        if (settled(entry) || BigInt(entry.mtimeNs) + RACY_NS > now) continue;
        try {
          const file = this.pathOf(name);
          const st = statSync(file, { bigint: true });
          if (stampOf(st) === entry.stamp && checksum(readFileSync(file, 'utf8')) === entry.sha)
            this.committed.set(name, { ...entry, at: String(now) });
        } catch {
          // gone or unreadable: the next start finds out
        }
      }
      const configs = Object.fromEntries(this.committed);
      const tmp = `${this.indexFile}.tmp-${process.pid}-0`;
      writeFileSync(tmp, JSON.stringify({ version: INDEX_VERSION, configs }), { mode: 0o600 });
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

  private enqueue(name: string, config: Op['config']): Promise<void> {
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

  /** what the caller of a write or remove that failed is told: which file, why, and where to look */
  private failure(op: Op, error: unknown): Error {
    const what = op.config ? 'write' : 'remove';
    return operationFailed(
      `cannot ${what} the config of domain '${op.name}' (${this.pathOf(op.name)}): ${(error as Error).message}; ` +
        `check the free space and the permissions of ${this.dir}`,
      error,
    );
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
          outcome.set(op.name, this.failure(op, error));
          return null;
        }
      }),
    );
    const stamps = new Map<string, IndexEntry>();
    await Promise.all(
      staged.map(async (s) => {
        if (!s?.tmp) return;
        try {
          await rename(s.tmp, this.pathOf(s.op.name));
        } catch (error) {
          outcome.set(s.op.name, this.failure(s.op, error));
          await unlink(s.tmp).catch(() => undefined);
          return;
        }
        // the file as committed, for the index (without it, the next start reads the file)
        const st = await stat(this.pathOf(s.op.name), { bigint: true }).catch(() => null);
        if (st && s.op.config) stamps.set(s.op.name, indexEntry(st, s.op.config.xml, s.op.config.def));
      }),
    );
    let dirError: unknown = null;
    try {
      const dh = await open(this.dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch (error) {
      dirError = error;
    }
    for (const s of staged) {
      if (!s) continue;
      if (dirError) outcome.set(s.op.name, this.failure(s.op, dirError));
      else if (!outcome.has(s.op.name)) {
        const entry = stamps.get(s.op.name);
        if (entry) this.committed.set(s.op.name, entry);
        else this.committed.delete(s.op.name);
        outcome.set(s.op.name, null);
      }
    }
    this.changed();
    for (const op of batch) op.settle(outcome.get(op.name) ?? null);
  }
}
