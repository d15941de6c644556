// Files in memory, for the orchestrator's unit tests: what its logic writes and reads, without real paths (and
// without real I/O, which a FakeClock could not wait for).
import type { Files } from '../../src/effects/files.js';

export interface MemoryFiles extends Files {
  readonly data: Map<string, string>;
}

/** `failWrites`: every write and removal fails, as on a full or read-only disk */
export function memoryFiles(initial: Record<string, string> = {}, failWrites = false): MemoryFiles {
  const data = new Map(Object.entries(initial));
  const refuse = async (): Promise<void> => {
    if (failWrites) throw new Error('disk full');
  };
  return {
    data,
    readText: async (f) => data.get(f) ?? null,
    exists: async (f) => data.has(f),
    writeAtomic: async (f, t) => (await refuse(), void data.set(f, t)),
    touch: async (f) => (await refuse(), void data.set(f, data.get(f) ?? '')),
    remove: async (f) => (await refuse(), void data.delete(f)),
    rename: async (from, to) => {
      await refuse();
      const text = data.get(from);
      if (text === undefined) throw new Error(`${from}: no such file`);
      data.delete(from);
      data.set(to, text);
    },
  };
}
