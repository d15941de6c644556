// Guests on a bundled guestd for the benches: defined and started by one virsh process per batch (virsh runs
// `cmd; cmd; …` in one connection), so setting up hundreds of guests does not fork hundreds of virsh.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { guestXml, virsh } from '../test/helpers/virsh.js';

export async function defineAndStart(uri: string, dir: string, names: readonly string[], memoryMiB: number, behavior: Record<string, string | number> = {}): Promise<void> {
  const batch = 25;
  for (let i = 0; i < names.length; i += batch) {
    const script = names.slice(i, i + batch).flatMap((name) => {
      const file = path.join(dir, `${name}.xml`);
      writeFileSync(file, guestXml(name, behavior, memoryMiB));
      return [`define ${file}`, `start ${name}`];
    });
    const r = await virsh(uri, script.join(' ; '));
    if (r.code !== 0) throw new Error(`defining guests on ${uri}: ${r.stderr}`);
  }
}

/** each name's state word as `virsh list --all` prints it */
export async function states(uri: string): Promise<Map<string, string>> {
  const r = await virsh(uri, 'list', '--all');
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n').slice(2)) {
    const m = /^\s*\S+\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** throws unless every name is in `want` ("running", "shut off") */
export async function expectAll(uri: string, names: readonly string[], want: string): Promise<void> {
  const now = await states(uri);
  const wrong = names.filter((n) => now.get(n) !== want);
  if (wrong.length) throw new Error(`${wrong.length} guests not ${want} on ${uri}: ${wrong.slice(0, 5).map((n) => `${n} ${now.get(n) ?? 'missing'}`).join(', ')}`);
}
