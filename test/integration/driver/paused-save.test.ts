// A guest suspended when it is managed-saved comes back paused, as libvirt restores it: the image records the
// client's pause (not the save's own), SAVE_RUNNING / SAVE_PAUSED override it, start --paused overrides both, and an
// image without the fact (older guestd) restores running. Real guest processes under the process driver.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DomainEvent, DriverStartFlags } from '../../../src/driver/driver.js';
import { BLOCK, decodeHeader, encodeHeader, encodeTrailer, type ImageFacts } from '../../../src/guest/image.js';
import { LibvirtError, VirErr } from '../../../src/libvirt/error.js';
import { domainXML, driverBed, sleep, waitFor } from './helpers.js';

/** libvirt's numbers: events STARTED 2, SUSPENDED 3, RESUMED 4; STARTED RESTORED 2, SUSPENDED PAUSED 0 / RESTORED 4 */
const STARTED_RESTORED = [2, 2];
const SUSPENDED_PAUSED = [3, 0];
const SUSPENDED_RESTORED = [3, 4];
/** virDomainRunningReason RESTORED, virDomainPausedReason USER */
const RUNNING_RESTORED = 3;
const PAUSED_USER = 1;

describe('process driver: a guest saved paused is restored paused', () => {
  const t = driverBed();
  const image = (name: string): string => join(t.bed.stateDir, 'save', `${name}.save`);
  const facts = (name: string): ImageFacts => decodeHeader(readFileSync(image(name)).subarray(0, BLOCK), image(name));
  const guestState = async (name: string) => {
    const mon = await t.bed.monitor(name);
    try {
      const s = await mon.call('query-state');
      return { counter: s.counter, checksum: s.checksum, guestTimeNs: s.guestTimeNs };
    } finally {
      mon.close();
    }
  };
  /** the events of `uuid` from index `from` on, as [event, detail] */
  const eventsOf = (uuid: string, from: number): number[][] =>
    t.bed.events.slice(from).filter((e: DomainEvent) => e.domain.uuid === uuid).map((e) => [e.event, e.detail]);
  /** start `uuid` (from its image): how it comes back, and the events that say so */
  const restore = async (uuid: string, flags: DriverStartFlags = {}) => {
    const from = t.bed.events.length;
    const rec = await t.d.create(uuid, flags);
    return { state: rec.state, reason: rec.reason, events: eventsOf(uuid, from) };
  };
  const RESTORED_RUNNING = { state: 'running', reason: RUNNING_RESTORED, events: [STARTED_RESTORED] };
  const RESTORED_PAUSED = { state: 'paused', reason: PAUSED_USER, events: [STARTED_RESTORED, SUSPENDED_RESTORED] };
  /** a started guest that has run a little (its memory changed) */
  const running = async (name: string): Promise<string> => {
    const rec = await t.d.defineXML(domainXML(name));
    await t.d.create(rec.uuid, {});
    await sleep(300);
    return rec.uuid;
  };

  it('suspended, saved, started: paused as it was (memory, clock), STARTED/RESTORED then SUSPENDED/RESTORED; resumes', async () => {
    const uuid = await running('held');
    await t.d.suspend(uuid);
    const paused = await guestState('held');
    await t.d.managedSave(uuid, {});
    assert.equal(facts('held').paused, true, 'the image records the client pause');

    await sleep(500); // host time passes while it is saved
    const from = t.bed.events.length;
    assert.deepEqual(await restore(uuid), RESTORED_PAUSED);
    assert.deepEqual(await guestState('held'), paused, 'memory and clock as they were saved');
    await sleep(400); // four ticks: a running guest would have changed
    assert.deepEqual(await guestState('held'), paused, 'standing still');
    assert.equal(t.bed.status('held').reason, PAUSED_USER, 'the runtime status says paused');

    await t.d.resume(uuid);
    assert.deepEqual([t.d.lookupByUuid(uuid).state, eventsOf(uuid, from).at(-1)], ['running', [4, 0]]);
    let resumed = paused;
    await waitFor('it runs on from where it stood', async () => (resumed = await guestState('held')).counter > paused.counter);
    assert.ok(BigInt(resumed.guestTimeNs) > BigInt(paused.guestTimeNs));
    await t.d.destroy(uuid, {});
  });

  it('a running guest still comes back running: the save pauses it, but that is not a client pause', async () => {
    const uuid = await running('runs');
    await t.d.managedSave(uuid, {});
    assert.equal(facts('runs').paused, false);
    assert.deepEqual(await restore(uuid), RESTORED_RUNNING);
    await t.d.destroy(uuid, {});
  });

  it('SAVE_PAUSED restores a running guest paused; SAVE_RUNNING a suspended one running; both at once are refused', async () => {
    const uuid = await running('flags');
    await t.d.managedSave(uuid, { paused: true });
    assert.deepEqual(await restore(uuid), RESTORED_PAUSED);

    await t.d.managedSave(uuid, { running: true }); // suspended (restored paused) as the save begins
    assert.equal(facts('flags').paused, false);
    assert.deepEqual(await restore(uuid), RESTORED_RUNNING);

    await assert.rejects(t.d.managedSave(uuid, { paused: true, running: true }), (err: unknown) => {
      assert.ok(err instanceof LibvirtError);
      assert.equal(err.virCode, VirErr.INVALID_ARG);
      assert.equal(err.message, "Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive");
      return true;
    });
    assert.equal(t.d.lookupByUuid(uuid).state, 'running', 'the refused save did nothing');
    await t.d.destroy(uuid, {});
  });

  it('start --paused restores a guest saved running paused, standing still from the start (SUSPENDED/PAUSED)', async () => {
    const uuid = await running('startp');
    await t.d.managedSave(uuid, {});
    const saved = facts('startp');
    assert.deepEqual(await restore(uuid, { paused: true }), {
      state: 'paused',
      reason: PAUSED_USER,
      events: [STARTED_RESTORED, SUSPENDED_PAUSED],
    });
    // it never ran: not a tick between the restore and the pause
    assert.equal((await guestState('startp')).counter, saved.counter);
    assert.equal((await guestState('startp')).guestTimeNs, saved.guestTimeNs);
    await t.d.destroy(uuid, {});
  });

  it('an image of the previous format (no paused fact) restores running, as before', async () => {
    const uuid = await running('oldimg');
    await t.d.suspend(uuid);
    await t.d.managedSave(uuid, {});
    // the header as guestd wrote it before: the same facts without `paused`, its checksum in the trailer redone
    const file = image('oldimg');
    const bytes = readFileSync(file);
    const { paused, ...older } = facts('oldimg');
    assert.equal(paused, true);
    const header = encodeHeader(older);
    const trailerAt = bytes.length - BLOCK;
    header.copy(bytes, 0);
    encodeTrailer(bytes.subarray(trailerAt + 8, trailerAt + 40), header).copy(bytes, trailerAt);
    writeFileSync(file, bytes);
    assert.equal(facts('oldimg').paused, undefined);
    assert.deepEqual(await restore(uuid), RESTORED_RUNNING);
    await t.d.destroy(uuid, {});
  });
});
