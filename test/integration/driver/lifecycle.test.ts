import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LibvirtError, VirErr } from '../../../src/libvirt/error.js';
import type { DomainTable } from '../../../src/driver/process/domain-table.js';
import type { ProcessDriver } from '../../../src/driver/process/driver.js';
import { isSameProcess } from '../../../src/effects/processes.js';
import { MonitorClient } from '../../../src/driver/process/monitor-client.js';
import { resetConnection } from '../../helpers/sockets.js';
import { Bed, domainXML, waitFor } from './helpers.js';

const isVir = (code: number, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof LibvirtError, `expected LibvirtError, got ${String(err)}`);
  assert.equal(err.virCode, code, err.message);
  if (re) assert.match(err.message, re);
  return true;
};

describe('process driver: lifecycle', () => {
  let bed: Bed;
  let d: ProcessDriver;
  before(async () => {
    bed = new Bed();
    d = await bed.driver();
  });
  after(async () => bed.cleanup());

  it('a define whose config cannot be written: the error names the domain, the file and what to check; no domain', async () => {
    const blocker = join(bed.stateDir, 'domains', 'unwritable.xml');
    mkdirSync(blocker); // the rename of the config onto a directory fails, as a full or read-only disk would
    try {
      await assert.rejects(
        d.defineXML(domainXML('unwritable')),
        isVir(VirErr.OPERATION_FAILED, /^operation failed: cannot write the config of domain 'unwritable' \(.*unwritable\.xml\): .*; check the free space and the permissions of .*domains$/),
      );
      assert.throws(() => d.lookupByName('unwritable'), isVir(VirErr.NO_DOMAIN));
    } finally {
      rmdirSync(blocker);
    }
  });

  it('defines, starts, shuts down and destroys a guest with libvirt events and ids', async () => {
    const rec = await d.defineXML(domainXML('web1'));
    assert.equal(rec.state, 'shutoff');
    assert.equal(rec.id, -1);
    assert.equal(rec.persistent, true);
    const cfg = join(bed.stateDir, 'domains', 'web1.xml');
    assert.equal(statSync(cfg).mode & 0o777, 0o600);

    const started = await d.create(rec.uuid, {});
    assert.equal(started.state, 'running');
    assert.equal(started.reason, 1);
    assert.ok(started.id >= 1);
    assert.equal(d.lookupById(started.id).name, 'web1');
    assert.match(d.getXMLDesc(rec.uuid, {}), new RegExp(`<domain type='process' id='${started.id}'>`));
    assert.ok(d.hasRunningGuests());
    await assert.rejects(d.create(rec.uuid, {}), isVir(VirErr.OPERATION_INVALID, /domain is already running/));

    await d.shutdown(rec.uuid);
    await waitFor('shutoff', () => d.lookupByUuid(rec.uuid).state === 'shutoff');
    assert.equal(d.lookupByUuid(rec.uuid).reason, 1);
    assert.equal(d.lookupByUuid(rec.uuid).id, -1);
    const mine = bed.events.filter((e) => e.domain.uuid === rec.uuid).map((e) => [e.event, e.detail]);
    assert.deepEqual(mine, [
      [0, 0], // defined added
      [2, 0], // started booted
      [6, 0], // shutdown finished
      [5, 0], // stopped shutdown
    ]);

    const again = await d.create(rec.uuid, {});
    assert.ok(again.id > started.id, 'ids increase');
    await d.destroy(rec.uuid, {});
    assert.equal(d.lookupByUuid(rec.uuid).state, 'shutoff');
    assert.equal(d.lookupByUuid(rec.uuid).reason, 2);
    assert.deepEqual(bed.events.at(-1), { domain: { uuid: rec.uuid, name: 'web1', id: again.id }, kind: 'stopped', event: 5, detail: 1 });
    assert.ok(!d.hasRunningGuests());
    await assert.rejects(d.shutdown(rec.uuid), isVir(VirErr.OPERATION_INVALID, /domain is not running/));
    await assert.rejects(d.destroy(rec.uuid, {}), isVir(VirErr.OPERATION_INVALID, /domain is not running/));
  });

  it('looks up unknown guests with libvirt messages', () => {
    assert.throws(() => d.lookupByName('nope'), isVir(VirErr.NO_DOMAIN, /^Domain not found: no domain with matching name 'nope'$/));
    assert.throws(() => d.lookupById(999), isVir(VirErr.NO_DOMAIN));
    assert.throws(() => d.lookupByUuid('00000000-0000-0000-0000-000000000000'), isVir(VirErr.NO_DOMAIN));
  });

  it('refuses a duplicate name with another uuid and a duplicate uuid with another name', async () => {
    const a = await d.defineXML(domainXML('dup', { uuid: '11111111-2222-3333-4444-555555555555' }));
    await assert.rejects(
      d.defineXML(domainXML('dup', { uuid: '11111111-2222-3333-4444-666666666666' })),
      isVir(VirErr.OPERATION_FAILED, /already exists with uuid 11111111-2222-3333-4444-555555555555/),
    );
    await assert.rejects(
      d.defineXML(domainXML('dup2', { uuid: a.uuid })),
      isVir(VirErr.OPERATION_FAILED, /'dup' is already defined with uuid/),
    );
    assert.ok(!existsSync(join(bed.stateDir, 'domains', 'dup2.xml')));
    // same name, same uuid: an update; without <uuid>: the existing one is kept
    await d.defineXML(domainXML('dup', { uuid: a.uuid, memory: '8' }));
    const upd = await d.defineXML(domainXML('dup', { memory: '16' }));
    assert.equal(upd.uuid, a.uuid);
    assert.equal(upd.maxMemKiB, 16 * 1024);
    assert.deepEqual(bed.events.filter((e) => e.domain.name === 'dup').map((e) => e.detail), [0, 1, 1]);
  });

  it('writes nothing for invalid XML', async () => {
    await assert.rejects(d.defineXML(`<domain type='process'><name>big</name><memory unit='TiB'>1</memory></domain>`), isVir(VirErr.XML_ERROR));
    assert.ok(!existsSync(join(bed.stateDir, 'domains', 'big.xml')));
    assert.throws(() => d.lookupByName('big'), isVir(VirErr.NO_DOMAIN));
  });

  it('a stuck guest ignores shutdown; destroy still works', async () => {
    const rec = await d.defineXML(domainXML('stuck', { behavior: { 'honor-shutdown': 'no', 'shutdown-seconds': 0 } }));
    await d.create(rec.uuid, {});
    await d.shutdown(rec.uuid);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(d.lookupByUuid(rec.uuid).state, 'running');
    await d.destroy(rec.uuid, {});
    assert.equal(d.lookupByUuid(rec.uuid).state, 'shutoff');
  });

  it('time: get/set/sync with an agent; a typed error without one', async () => {
    const rec = await d.defineXML(domainXML('clock', { behavior: { agent: 'yes' } }));
    await d.create(rec.uuid, {});
    await d.setTime(rec.uuid, { seconds: 1_000_000_000n, nseconds: 5 });
    const t = await d.getTime(rec.uuid);
    assert.ok(t.seconds >= 1_000_000_000n && t.seconds < 1_000_000_005n, String(t.seconds));
    await d.setTime(rec.uuid, { sync: true });
    const s = await d.getTime(rec.uuid);
    assert.ok(Math.abs(Number(s.seconds) - Date.now() / 1000) < 2);
    await d.destroy(rec.uuid, {});

    const na = await d.defineXML(domainXML('noagent', { behavior: { agent: 'no' } }));
    await d.create(na.uuid, {});
    await assert.rejects(d.setTime(na.uuid, { sync: true }), isVir(VirErr.ARGUMENT_UNSUPPORTED, /^argument unsupported: guestd guest agent is not configured/));
    await assert.rejects(d.getTime(na.uuid), isVir(VirErr.ARGUMENT_UNSUPPORTED));
    await d.destroy(na.uuid, {});
    await assert.rejects(d.getTime(na.uuid), isVir(VirErr.OPERATION_INVALID, /not running/));
  });

  it('a guest still booting has no agent yet, and honours shutdown once up', async () => {
    const rec = await d.defineXML(domainXML('slowboot', { behavior: { 'boot-seconds': 1, 'shutdown-seconds': 0 } }));
    await d.create(rec.uuid, {});
    await assert.rejects(d.getTime(rec.uuid), isVir(VirErr.AGENT_UNRESPONSIVE));
    await d.shutdown(rec.uuid);
    await waitFor('shutoff after boot', () => d.lookupByUuid(rec.uuid).state === 'shutoff', 5000);
  });

  it('metadata: title, description, elements by namespace', async () => {
    const rec = await d.defineXML(domainXML('meta', { extra: '<x:policy xmlns:x="urn:example:policy" tier="1"/>' }));
    assert.match(d.getMetadata(rec.uuid, { type: 'element', uri: 'urn:example:policy' }, {}), /<x:policy xmlns:x="urn:example:policy" tier="1"\/>/);
    assert.match(d.getMetadata(rec.uuid, { type: 'element', uri: 'urn:guestd:behavior:1' }, {}), /gd:behavior/);
    assert.throws(() => d.getMetadata(rec.uuid, { type: 'description', uri: null }, {}), isVir(VirErr.NO_DOMAIN_METADATA));
    await d.setMetadata(rec.uuid, { type: 'title', value: 'A title', key: null, uri: null }, {});
    await d.setMetadata(rec.uuid, { type: 'description', value: 'Some words', key: null, uri: null }, {});
    await d.setMetadata(rec.uuid, { type: 'element', value: '<p tier="2"><q>z</q></p>', key: 'pol', uri: 'urn:example:policy' }, {});
    assert.equal(d.getMetadata(rec.uuid, { type: 'title', uri: null }, {}), 'A title');
    assert.equal(
      d.getMetadata(rec.uuid, { type: 'element', uri: 'urn:example:policy' }, {}),
      '<pol:p xmlns:pol="urn:example:policy" tier="2"><pol:q>z</pol:q></pol:p>',
    );
    // persisted: a new driver sees it
    const d2 = await bed.driver();
    assert.equal(d2.getMetadata(rec.uuid, { type: 'description', uri: null }, {}), 'Some words');
    await bed.closeDriver(d2);
    await d.setMetadata(rec.uuid, { type: 'element', value: null, key: null, uri: 'urn:example:policy' }, {});
    assert.throws(() => d.getMetadata(rec.uuid, { type: 'element', uri: 'urn:example:policy' }, {}), isVir(VirErr.NO_DOMAIN_METADATA));
  });

  it('transient guests: createXML, gone when stopped; undefine of a running guest makes it transient', async () => {
    const t = await d.createXML(domainXML('trans'), {});
    assert.equal(t.persistent, false);
    assert.equal(t.state, 'running');
    await assert.rejects(d.managedSave(t.uuid, {}), isVir(VirErr.OPERATION_INVALID, /transient/));
    await assert.rejects(d.setAutostart(t.uuid, true), isVir(VirErr.OPERATION_INVALID));
    await d.destroy(t.uuid, {});
    assert.throws(() => d.lookupByUuid(t.uuid), isVir(VirErr.NO_DOMAIN));

    const p = await d.defineXML(domainXML('becomes-transient'));
    await d.create(p.uuid, {});
    await d.undefine(p.uuid, {});
    assert.equal(d.lookupByUuid(p.uuid).persistent, false);
    assert.equal(bed.status('becomes-transient').persistent, false);
    await d.destroy(p.uuid, {});
    assert.throws(() => d.lookupByUuid(p.uuid), isVir(VirErr.NO_DOMAIN));
  });

  it('autostart: guests marked autostart start when a driver first initializes on this run dir', async () => {
    const rec = await d.defineXML(domainXML('auto'));
    await d.setAutostart(rec.uuid, true);
    assert.equal(d.lookupByUuid(rec.uuid).autostart, true);
    // a fresh run dir is what a host boot gives: autostart runs there once
    const bed2 = new Bed();
    try {
      const other = await bed2.driver();
      const xml = d.getXMLDesc(rec.uuid, {});
      await other.defineXML(xml);
      await other.setAutostart(rec.uuid, true);
      await bed2.closeDriver(other);
      const { rmSync } = await import('node:fs');
      rmSync(bed2.runDir, { recursive: true, force: true });
      const booted = await bed2.driver();
      assert.equal(booted.lookupByUuid(rec.uuid).state, 'running');
      // a daemon restart (same run dir) does not autostart again
      await booted.destroy(rec.uuid, {});
      await bed2.closeDriver(booted);
      const restarted = await bed2.driver();
      assert.equal(restarted.lookupByUuid(rec.uuid).state, 'shutoff');
    } finally {
      await bed2.cleanup();
    }
  });

  it('a guest never dies because a control connection broke (monitor reset with the greeting unread)', async () => {
    const rec = await d.defineXML(domainXML('sturdy'));
    await d.create(rec.uuid, {});
    const { pid, monitor } = bed.status('sturdy');
    for (let i = 0; i < 3; i++) await resetConnection(monitor);
    assert.ok(isSameProcess(pid, bed.status('sturdy').startTime), 'the guest process lives');
    assert.equal(d.lookupByUuid(rec.uuid).state, 'running');
    await d.setTime(rec.uuid, { sync: true }); // the driver's own monitor still works
    await d.destroy(rec.uuid, {});
  });

  it('names that look like options or hold odd characters start, save and restore', async () => {
    for (const name of ['-dash', '--name', 'with space', `quote'"`, 'ü日']) {
      const rec = await d.defineXML(domainXML(name.replace(/&/g, '&amp;').replace(/</g, '&lt;')));
      assert.equal((await d.create(rec.uuid, {})).name, name);
      await d.managedSave(rec.uuid, {});
      assert.equal((await d.create(rec.uuid, {})).reason, 3, `${name} restored`);
      await d.destroy(rec.uuid, {});
      await d.undefine(rec.uuid, {});
    }
  });

  it("the daemon's own monitor connection breaking does not end the guest: it connects again", async () => {
    const rec = await d.defineXML(domainXML('reconnects'));
    await d.create(rec.uuid, {});
    const { pid, startTime } = bed.status('reconnects');
    // the one way to break the driver's side of the connection from here: close it under the driver
    const table = (d as unknown as { ctx: { table: DomainTable } }).ctx.table;
    const monitor = (): MonitorClient | null | undefined => table.get(rec.uuid)?.run?.monitor;
    monitor()!.close();
    await waitFor('the monitor to be connected again', () => monitor()?.closed === false, 15_000);
    assert.ok(isSameProcess(pid, startTime), 'the same guest process runs on');
    assert.equal(d.lookupByUuid(rec.uuid).state, 'running');
    await d.setTime(rec.uuid, { sync: true }); // controllable through the new connection
    await d.destroy(rec.uuid, {});
  });
});
