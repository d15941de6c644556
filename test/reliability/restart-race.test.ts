// libvirt's QEMU-driver restart race, in random rounds on real guestd processes: the daemon goes down (SIGTERM or
// kill -9), a guest dies meanwhile (or its pid now belongs to another, live process; or it survives), the daemon
// comes up. A persistent guest that died is shut off and kept, a transient one is gone, a survivor is reconnected
// (same process, same id); a process that merely holds the recorded pid is neither taken for the guest nor
// signalled; no persistent domain is ever lost. (test/integration/daemon/restart-race.test.ts runs the fixed
// sequence; this runs the combinations.) On this machine PID 1 does not reap orphans, so every guest killed while
// its daemon is down stays a zombie with its pid: the daemon must not take that for alive either.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { openConnection, type Connection } from '../../src/connect/index.js';
import { processStartTime } from '../../src/effects/processes.js';
import { isVirError, VirErr } from '../../src/libvirt/error.js';
import { cleanupAllGuestd, isAlive, startGuestd, waitFor, type GuestdInstance } from '../helpers/guestd.js';
import { ok, runtimeStatus, statusFile } from '../helpers/guests.js';
import { unrelated } from '../helpers/processes.js';
import { log, random, report, trials } from '../helpers/reliability.js';
import { guestXml, virsh } from '../helpers/virsh.js';

const SUITE = 'restart-race';

after(cleanupAllGuestd);

const KINDS = ['persistent', 'transient'] as const;
/** what happens to the guest while the daemon is down: it dies; it dies and its pid is another process's; it lives */
const FATES = ['dies', 'pid-reused', 'survives'] as const;
const STOPS = ['SIGTERM', 'SIGKILL'] as const;

async function stopDaemon(gd: GuestdInstance, signal: (typeof STOPS)[number]): Promise<void> {
  gd.child.kill(signal);
  await gd.exited;
}

const notFound = (err: unknown): boolean => isVirError(err, VirErr.NO_DOMAIN);

test('the restart race, in random rounds: persistent shut off and kept, transient gone, survivors reconnected, other processes untouched', { timeout: 3_600_000 }, async () => {
  const rnd = random(SUITE);
  const count = trials(20, 500);
  let gd = await startGuestd();
  const dir = gd.dir;
  for (const name of ['persist', 'idle']) {
    writeFileSync(path.join(dir, `${name}.xml`), guestXml(name, { 'shutdown-seconds': 0 }));
    await ok(virsh(gd.uri, 'define', path.join(dir, `${name}.xml`)), `define ${name}`);
  }
  let conn: Connection = await openConnection(gd.uri);
  const figures: Record<string, number> = { rounds: count, losses: 0 };
  const losses: string[] = [];
  for (let round = 1; round <= count; round++) {
    const kind = rnd.pick(KINDS);
    const fate = rnd.pick(FATES);
    const stop = rnd.pick(STOPS);
    const name = kind === 'persistent' ? 'persist' : `trans${round}`;
    const story = `round ${round}: ${kind} guest ${fate} while the daemon is down (${stop})`;
    log(SUITE, story);
    figures[`${kind}/${fate}`] = (figures[`${kind}/${fate}`] ?? 0) + 1;

    let guest;
    if (kind === 'persistent') guest = await conn.start(await conn.lookup(name));
    else {
      const file = path.join(dir, 'trans.xml');
      writeFileSync(file, guestXml(name, { 'shutdown-seconds': 0 }));
      await ok(virsh(gd.uri, 'create', file), `${story}: create`);
      guest = await conn.lookup(name);
    }
    const status = runtimeStatus(gd, name);
    await conn.close();
    await stopDaemon(gd, stop);
    if (!isAlive(status.pid)) losses.push(`${story}: the guest died with its daemon`);

    let other: ReturnType<typeof unrelated> | null = null;
    if (fate !== 'survives') {
      process.kill(status.pid, 'SIGKILL');
      await waitFor('the guest to die', () => !isAlive(status.pid));
      if (fate === 'pid-reused') {
        // the kernel cannot be made to hand out that pid again here (the dead guest stays a zombie holding it):
        // record a live process of someone else under it instead, with the guest's start time
        other = unrelated();
        writeFileSync(statusFile(gd, name), JSON.stringify({ ...status, pid: other.pid }));
      }
    }

    gd = await startGuestd({ dir });
    conn = await openConnection(gd.uri);
    try {
      const found = await conn.lookup(name).catch((err: unknown) => {
        if (notFound(err)) return null;
        throw err;
      });
      if (fate === 'survives') {
        const now = found && (await conn.state(found));
        if (!found || now?.state !== 'running' || found.id !== guest.id || runtimeStatus(gd, name).pid !== status.pid)
          losses.push(`${story}: not reconnected (${JSON.stringify(found)}, ${JSON.stringify(now)})`);
        else await conn.destroy(found);
      } else if (kind === 'persistent') {
        const now = found && (await conn.state(found));
        if (!found || now?.state !== 'shutoff' || found.id !== -1 || !(await conn.isPersistent(found)))
          losses.push(`${story}: expected shut off and kept, got ${JSON.stringify(found)} ${JSON.stringify(now)}`);
      } else if (found) losses.push(`${story}: the dead transient guest is still listed (${JSON.stringify(found)})`);
      if (fate !== 'survives' && existsSync(statusFile(gd, name))) losses.push(`${story}: its stale runtime status is left`);
      if (other) {
        if (processStartTime(other.pid) === null) losses.push(`${story}: the process now holding the pid was signalled`);
      }
      const idle = await conn.lookup('idle').catch(() => null);
      if (!idle || (await conn.state(idle)).state !== 'shutoff') losses.push(`${story}: the idle persistent guest was lost`);
    } finally {
      other?.release();
    }
  }
  await conn.close();
  figures.losses = losses.length;
  report(SUITE, figures);
  assert.deepEqual(losses, []);
});
