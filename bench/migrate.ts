// Evacuate N guests between two bundled guestd daemons (live peer-to-peer migration, `libvirt-guests evacuate`),
// next to suspending and restoring the same guests locally (`stop` + `start`, ON_SHUTDOWN=suspend), in one run:
// the total time of each, and per guest how long it was not running (migration: the pause from the last pass until
// it runs at the peer, as the source daemon measures it; local: its save plus its restore, at least).
//   node dist/bench/migrate.js [GUESTS] [MEMORY_MIB]     (after npm run build; defaults 8 × 128 MiB;
//   BENCH_QUICK=1: 4 × 32 MiB)
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MigrateResult, StartResult, StopResult } from '../src/orchestrator/result.js';
import { cleanupAllGuestd, startGuestd } from '../test/helpers/guestd.js';
import { repoPath } from '../test/helpers/repo.js';
import { runProgram } from '../test/helpers/virsh.js';
import { defineAndStart, expectAll } from './guests.js';
import { QUICK, median, seconds as s } from './measure.js';

const guests = Number(process.argv[2] ?? (QUICK ? 4 : 8));
const memoryMiB = Number(process.argv[3] ?? (QUICK ? 32 : 128));
const PARALLEL = 4;

async function guestsCli<T>(schema: { parse(v: unknown): T }, args: string[], env: Record<string, string>): Promise<{ ms: number; result: T }> {
  const t0 = process.hrtime.bigint();
  const r = await runProgram(process.execPath, [repoPath('bin/run.js'), ...args, '--json', '--quiet'], { env, timeoutMs: 600_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`libvirt-guests ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return { ms, result: schema.parse(JSON.parse(r.stdout)) };
}

async function main(): Promise<void> {
  const [a, b] = await Promise.all([startGuestd(), startGuestd()]);
  const work = mkdtempSync(path.join(a.dir, 'bench-'));
  try {
    const names = Array.from({ length: guests }, (_, i) => `mig${i + 1}`);
    await defineAndStart(a.uri, work, names, memoryMiB, { agent: 'no' });
    await expectAll(a.uri, names, 'running');
    const config = (uri: string): Record<string, string> => {
      const file = path.join(work, `${uri === a.uri ? 'a' : 'b'}.conf`);
      writeFileSync(
        file,
        [`URIS='${uri}'`, `MIGRATE_URI='${b.uri}'`, `PARALLEL_MIGRATE=${PARALLEL}`, `PARALLEL_SUSPEND=${PARALLEL}`, `PARALLEL_START=${PARALLEL}`, 'MIGRATE_LIVE=1', 'CONNECT_RETRIES=0', ''].join('\n'),
      );
      return { LIBVIRT_GUESTS_CONFIG: file, LIBVIRT_GUESTS_LIST_FILE: path.join(work, 'list'), LIBVIRT_GUESTS_LOCK_FILE: path.join(work, 'lock'), LIBVIRT_GUESTS_PROFILE: 'upstream' };
    };

    const evac = await guestsCli(MigrateResult, ['evacuate'], config(a.uri));
    if (evac.result.uris[0]!.guests.some((g) => g.outcome !== 'done')) throw new Error('a migration failed');
    const downtimes = [...a.stderr().matchAll(/domain '(mig\d+)': migrated to .* in (\d+) ms, downtime (\d+) ms/g)].map((m) => Number(m[3]));
    if (downtimes.length !== guests) throw new Error(`found ${downtimes.length} downtimes in the source's log, expected ${guests}`);
    const back = await guestsCli(MigrateResult, ['return'], config(a.uri));
    if (back.result.away !== 0) throw new Error('not every guest came back');

    // the same guests, on the same host, saved and restored
    const stop = await guestsCli(StopResult, ['stop'], config(a.uri));
    const start = await guestsCli(StartResult, ['start'], config(a.uri));
    const saveMs = new Map(stop.result.uris[0]!.guests.map((g) => [g.name, g.durationMs]));
    const outages = start.result.uris[0]!.guests.map((g) => (saveMs.get(g.name) ?? NaN) + g.durationMs);

    console.log(`${guests} guests × ${memoryMiB} MiB, two guestd on one host, ${PARALLEL} at a time, ${new Date().toISOString()}`);
    console.log(`evacuate (live migration): ${s(evac.ms)} total; per-guest downtime median ${median(downtimes)} ms, max ${Math.max(...downtimes)} ms`);
    console.log(`return (back, live):       ${s(back.ms)} total`);
    console.log(
      `suspend + restore here:    ${s(stop.ms)} + ${s(start.ms)} = ${s(stop.ms + start.ms)}; per-guest outage (save + restore) median ${median(outages)} ms, max ${Math.max(...outages)} ms`,
    );
    console.log(
      `→ time evacuate/(suspend+restore) = ${(evac.ms / (stop.ms + start.ms)).toFixed(2)}; downtime migration/local (medians) = ${(median(downtimes) / median(outages)).toFixed(3)}`,
    );
  } finally {
    await cleanupAllGuestd();
  }
}

await main();
