// kill -9 of guestd at a random moment of parallel managed saves, then a restart. Every guest must end in one of
// two states, never undefined, never lost: running on (the same process: its save failed, was aborted, or never
// began), or shut off with a managed save image that validates and restores to the state it was saved in (the
// runtime's counter and memory checksum prove it). A save still running when the new daemon comes up is visible
// as a job and is waited for, as libvirt-guests' start does; in half the trials it is aborted instead (a stop
// deadline), and the guest must run on. No partial image may remain once no save runs.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { openConnection, type Connection } from '../../src/connect/index.js';
import { readImage } from '../../src/guest/image.js';
import { cleanupAllGuestd, isAlive, sleep, startGuestd, waitFor, type GuestdInstance } from '../helpers/guestd.js';
import { askGuest, runtimeStatus } from '../helpers/guests.js';
import { log, random, report, trials } from '../helpers/reliability.js';
import { guestXml, virsh } from '../helpers/virsh.js';

const SUITE = 'guestd-kill';
const GUESTS = 8;
const MEMORY_MIB = 64;
/** half the guests save at this rate, so that a restarted daemon finds saves still running */
const SLOW_MIB_PER_SECOND = 32;
const SHUTOFF_SAVED = 5;

after(cleanupAllGuestd);

const names = Array.from({ length: GUESTS }, (_, i) => `kill${i}`);

interface Before {
  pid: number;
  counter: number;
}

type Outcome = 'running' | 'saved';

/** where one guest ended after the restart (restoring it when saved); throws what is wrong with it */
async function settle(gd: GuestdInstance, conn: Connection, name: string, was: Before): Promise<Outcome> {
  let guest = await conn.lookup(name).catch((err: unknown) => {
    throw new Error(`undefined after the restart (${String(err)})`);
  });
  // a save still running is waited for, as libvirt-guests' start does
  await waitFor(`${name}'s save to end`, async () => (await conn.jobInfo(guest)).type === 'none', 120_000, 100);
  guest = await conn.lookup(name);
  const { state, reason } = await conn.state(guest);
  if (state === 'running') {
    const pid = runtimeStatus(gd, name).pid;
    const says = (await askGuest(gd, name, async (m) => m.greeting)).status;
    if (pid !== was.pid || !isAlive(pid) || says !== 'running')
      throw new Error(`reported running, but as pid ${pid} (was ${was.pid}, alive: ${isAlive(pid)}) that says it is ${says}`);
    return 'running';
  }
  const image = path.join(gd.stateDir, 'save', `${name}.save`);
  if (state !== 'shutoff' || reason !== SHUTOFF_SAVED || !existsSync(image) || !(await conn.hasManagedSave(guest)))
    throw new Error(`ended ${state} (reason ${reason}), image ${existsSync(image) ? 'present' : 'absent'}: its memory is lost`);
  const img = await readImage(image, { uuid: guest.uuid, memoryBytes: MEMORY_MIB << 20 });
  if (img.facts.counter < was.counter) throw new Error(`its image (counter ${img.facts.counter}) is older than the guest (${was.counter})`);
  // restore, and check it continues from exactly what the image holds
  await conn.start(guest);
  const restored = (await askGuest(gd, name, (m) => m.call('query-state'))).restoredFrom;
  if (restored?.checksum !== img.payloadSha || restored.counter !== img.facts.counter)
    throw new Error(`restored ${JSON.stringify(restored)}, but its image holds counter ${img.facts.counter}, sha ${img.payloadSha}`);
  return 'saved';
}

test(`kill -9 of guestd during ${GUESTS} parallel ${MEMORY_MIB} MiB managed saves: every guest running or saved, none lost`, { timeout: 3_600_000 }, async () => {
  const rnd = random(SUITE);
  const count = trials(3, 30);
  let gd = await startGuestd();
  const dir = gd.dir;
  for (const [i, name] of names.entries()) {
    const file = path.join(dir, `${name}.xml`);
    const slow: Record<string, number> = i % 2 === 1 ? { 'save-mib-per-second': SLOW_MIB_PER_SECOND } : {};
    writeFileSync(file, guestXml(name, { 'shutdown-seconds': 0, ...slow }, MEMORY_MIB));
    const r = await virsh(gd.uri, 'define', file);
    assert.equal(r.code, 0, r.stderr);
  }
  let conn: Connection = await openConnection(gd.uri);
  for (const name of names) await conn.start(await conn.lookup(name));

  // one undisturbed round measures how long the parallel saves take here: kills land anywhere in that span and past it
  const t0 = Date.now();
  await Promise.all(names.map(async (name) => conn.managedSave(await conn.lookup(name))));
  const saveMs = Date.now() - t0;
  for (const name of names) await conn.start(await conn.lookup(name));
  const maxDelayMs = Math.ceil(saveMs * 1.25);
  log(SUITE, `${GUESTS} parallel saves of ${MEMORY_MIB} MiB take ${saveMs} ms here: kill delays drawn from 0..${maxDelayMs} ms`);

  const figures = { trials: count, guests: 0, running: 0, saved: 0, adopted: 0, aborted: 0, losses: 0, saveMs };
  const losses: string[] = [];
  for (let trial = 1; trial <= count; trial++) {
    const before = new Map<string, Before>();
    for (const name of names) {
      const { counter } = await askGuest(gd, name, (m) => m.call('query-state'));
      before.set(name, { pid: runtimeStatus(gd, name).pid, counter });
    }
    const delayMs = rnd.int(0, maxDelayMs);
    const abort = rnd.next() < 0.5;
    log(SUITE, `trial ${trial}: kill after ${delayMs} ms${abort ? ', then abort the saves still running' : ''}`);
    // a kill may land before the lookup answers too: every call of the round ends in the catch
    const saves = names.map((name) => conn.lookup(name).then((g) => conn.managedSave(g)).catch(() => undefined));
    await sleep(delayMs);
    gd.child.kill('SIGKILL');
    await gd.exited;
    await Promise.all(saves);
    await conn.close().catch(() => undefined);

    gd = await startGuestd({ dir });
    conn = await openConnection(gd.uri);
    const adopted: string[] = [];
    for (const name of names) {
      const guest = await conn.lookup(name).catch(() => null);
      if (guest && (await conn.jobInfo(guest)).type === 'bounded') adopted.push(name);
    }
    if (abort) await Promise.all(adopted.map(async (name) => conn.abortJob(await conn.lookup(name)).catch(() => undefined)));
    const outcome: string[] = [];
    for (const name of names) {
      try {
        const o = await settle(gd, conn, name, before.get(name)!);
        figures[o]++;
        outcome.push(`${name}:${o}`);
      } catch (err) {
        losses.push(`trial ${trial}: ${name}: ${(err as Error).message}`);
        outcome.push(`${name}:LOST`);
      }
    }
    figures.guests += names.length;
    figures.adopted += adopted.length;
    if (abort) figures.aborted += adopted.length;
    const parts = readdirSync(path.join(gd.stateDir, 'save')).filter((f) => f.includes('.part'));
    if (parts.length > 0) losses.push(`trial ${trial}: partial images left: ${parts.join(', ')}`);
    log(
      SUITE,
      `trial ${trial}: ${adopted.length} saves still running after the restart` +
        `${abort ? ', aborted' : ''} → ${outcome.join(' ')}`,
    );
  }
  await conn.close();
  figures.losses = losses.length;
  report(SUITE, figures);
  assert.deepEqual(losses, []);
});
