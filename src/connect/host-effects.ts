// What URI resolution reads from the machine, behind one interface so resolution itself stays pure.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';

export interface HostEffects {
  env: Readonly<Record<string, string | undefined>>;
  uid: number;
  home: string;
  exists(path: string): boolean;
  /** file contents, or null when the file does not exist */
  readFile(path: string): string | null;
}

export function hostEffects(env: Readonly<Record<string, string | undefined>> = process.env): HostEffects {
  return {
    env,
    uid: process.getuid?.() ?? 0,
    home: env.HOME || homedir(),
    exists: (path) => existsSync(path),
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
  };
}
