// The shutdowns a stop asked for, kept beside the list file until start has handled those guests.
//
// A guest asked to shut down goes on running until its OS powers it off, and nothing on the wire tells "shutting
// down" from "running" (QEMU guests stay 'running'; so do guestd's). A start run after a stop was killed half-way
// would take such a guest for running, drop it from the list, and the guest would power off moments later, never to
// be started again. So stop notes each shutdown before asking for it (the guest's id and the time), and start waits
// for a listed guest it finds running under that same id, as long as the stop itself would have waited.
// Notes from before this host's last boot are void: those guests went down with it.
import type { Files } from '../effects/files.js';
import type { GuestRef } from '../connect/connection.js';
import type { ListEntry } from './result.js';

export interface AskedShutdown {
  uri: string;
  uuid: string;
  /** the guest's id when it was asked: another id means it has been started again since */
  id: number;
  /** ms since the epoch */
  at: number;
}

export const shutdownRecordPath = (listFile: string): string => `${listFile}.shutdowns`;

/** One line per shutdown: `URI UUID ID MS`; a line that does not read so is skipped (the record is advisory). */
function parse(text: string): AskedShutdown[] {
  return text.split('\n').flatMap((line) => {
    const [uri, uuid, id, at, ...rest] = line.trim().split(/\s+/);
    if (!uri || !uuid || rest.length > 0 || !/^\d+$/.test(id ?? '') || !/^\d+$/.test(at ?? '')) return [];
    return [{ uri, uuid, id: Number(id), at: Number(at) }];
  });
}

const format = (entries: readonly AskedShutdown[]): string => entries.map((e) => `${e.uri} ${e.uuid} ${e.id} ${e.at}\n`).join('');

export class ShutdownRecord {
  private writes: Promise<void> = Promise.resolve();
  private failed = false;

  private constructor(
    private readonly files: Files,
    readonly file: string,
    private entries: AskedShutdown[],
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /** the record beside `listFile`; `onFailure` is told once when it cannot be read or written (never fatal) */
  static async load(files: Files, listFile: string, bootedAt: number, onFailure: (error: unknown) => void): Promise<ShutdownRecord> {
    const file = shutdownRecordPath(listFile);
    let entries: AskedShutdown[] = [];
    try {
      entries = parse((await files.readText(file)) ?? '').filter((e) => e.at >= bootedAt);
    } catch (err) {
      onFailure(err);
    }
    return new ShutdownRecord(files, file, entries, onFailure);
  }

  find(uri: string, uuid: string): AskedShutdown | undefined {
    return this.entries.find((e) => e.uri === uri && e.uuid === uuid);
  }

  has(uri: string): boolean {
    return this.entries.some((e) => e.uri === uri);
  }

  /** notes a shutdown about to be asked for; resolves once it is on disk (or could not be put there) */
  note(uri: string, guest: GuestRef, at: number): Promise<void> {
    this.entries = [...this.entries.filter((e) => !(e.uri === uri && e.uuid === guest.uuid)), { uri, uuid: guest.uuid, id: guest.id, at }];
    return this.save();
  }

  /** start: keeps the notes of the guests still in the list; the file goes when none is left */
  keepOnly(list: readonly ListEntry[]): Promise<void> {
    this.entries = this.entries.filter((e) => list.some((l) => l.uri === e.uri && l.uuids.includes(e.uuid)));
    return this.save();
  }

  /** writes are queued, each with the whole record as it is then */
  private save(): Promise<void> {
    const text = format(this.entries);
    this.writes = this.writes.then(async () => {
      try {
        if (text === '') await this.files.remove(this.file);
        else await this.files.writeAtomic(this.file, text, 0o600);
      } catch (err) {
        if (!this.failed) this.onFailure(err);
        this.failed = true;
      }
    });
    return this.writes;
  }
}
