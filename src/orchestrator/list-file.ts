// The list of guests that `stop` handled and `start` must bring back, in the original's format:
// one line per URI, `URI UUID UUID …`, so a list written by libvirt-guests.sh is restored by us and the reverse.
import { StateFileError } from '../errors.js';
import type { Files } from '../effects/files.js';
import { parseDashedUuid } from '../libvirt/uuid.js';
import type { ListEntry } from './result.js';

export type { ListEntry };

const URI = /^(default|[A-Za-z][A-Za-z0-9+.-]*:\/\/\S*)$/;

/** Parses the list; a malformed line is an error naming it (the file is never deleted because of it). */
export function parseListFile(text: string, file: string): ListEntry[] {
  const entries: ListEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const words = raw.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) return;
    const [uri, ...uuids] = words as [string, ...string[]];
    const hint = 'Each line must be a libvirt URI followed by guest UUIDs. Fix or remove the line; the file is kept as it is.';
    if (!URI.test(uri)) throw new StateFileError(`${file}:${index + 1}`, `"${uri}" is not a libvirt URI`, { hint });
    const parsed = uuids.map((u) => {
      const uuid = parseDashedUuid(u);
      if (uuid === null) throw new StateFileError(`${file}:${index + 1}`, `"${u}" is not a guest UUID`, { hint });
      return uuid;
    });
    addTo(entries, uri, parsed);
  });
  return entries;
}

export function formatListFile(entries: readonly ListEntry[]): string {
  return entries
    .filter((e) => e.uuids.length > 0)
    .map((e) => `${e.uri} ${e.uuids.join(' ')}\n`)
    .join('');
}

/** Union of two lists, per URI, keeping first-seen order and dropping duplicate UUIDs. */
export function mergeLists(...lists: readonly (readonly ListEntry[])[]): ListEntry[] {
  const out: ListEntry[] = [];
  for (const list of lists) for (const e of list) addTo(out, e.uri, e.uuids);
  return out;
}

function addTo(entries: ListEntry[], uri: string, uuids: readonly string[]): void {
  let entry = entries.find((e) => e.uri === uri);
  if (!entry) {
    entry = { uri, uuids: [] };
    entries.push(entry);
  }
  for (const u of uuids) if (!entry.uuids.includes(u)) entry.uuids.push(u);
}

/** null when there is no list file (nothing was saved, or it was already restored). */
export async function readListFile(files: Files, file: string): Promise<ListEntry[] | null> {
  let text: string | null;
  try {
    text = await files.readText(file);
  } catch (err) {
    if (!(err instanceof StateFileError)) throw err;
    throw new StateFileError(file, err.reason, {
      hint: 'The list of saved guests must be a regular file: move this one away (a stop moves a list it cannot read aside by itself).',
      cause: err,
    });
  }
  return text === null ? null : parseListFile(text, file);
}

export async function writeListFile(files: Files, file: string, entries: readonly ListEntry[]): Promise<void> {
  await files.writeAtomic(file, formatListFile(entries), 0o600);
}
