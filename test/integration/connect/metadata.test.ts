// Connection.setMetadata on both backends against a real guestd, on the three kinds of guest the policy commands
// meet: running and persistent (live and config), shut off (the config only), running and transient (the live
// definition only). The latter two take the fallback from LIVE|CONFIG to CURRENT, which needs the daemon's
// OPERATION_INVALID, as libvirtd answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openConnection, type Backend } from '../../../src/connect/index.js';
import type { Connection } from '../../../src/connect/connection.js';
import { cleanupAllGuestd, startGuestd, type GuestdInstance } from '../../helpers/guestd.js';
import { ok } from '../../helpers/guests.js';
import { guestXmlFile, virsh } from '../../helpers/virsh.js';

const NS = 'urn:libvirt-guests-ts:test:metadata';

describe('Connection.setMetadata on running, shut off and transient guests', () => {
  let gd: GuestdInstance;
  const name = (what: string): string => `${what}-${process.pid}`;
  const file = (guest: string): string => guestXmlFile(gd.dir, guest, { 'shutdown-seconds': 0 });

  before(async () => {
    gd = await startGuestd();
    await ok(virsh(gd.uri, 'define', file(name('running'))), 'define running');
    await ok(virsh(gd.uri, 'start', name('running')), 'start running');
    await ok(virsh(gd.uri, 'define', file(name('off'))), 'define off');
    await ok(virsh(gd.uri, 'create', file(name('transient'))), 'create transient');
  });
  after(cleanupAllGuestd);

  for (const backend of ['native', 'virsh'] as const satisfies readonly Backend[]) {
    describe(`${backend} backend`, () => {
      let conn: Connection;
      before(async () => {
        conn = await openConnection(gd.uri, { backend });
      });
      after(() => conn?.close());

      for (const kind of ['running', 'off', 'transient']) {
        it(`sets, reads and removes the element of a ${kind} guest`, async () => {
          const guest = await conn.lookup(name(kind));
          await conn.setMetadata(guest, NS, 'm', `<mark by="${backend}"/>`);
          assert.match((await conn.getMetadata(guest, NS)) ?? '', new RegExp(`<(m:)?mark .*by="${backend}"`));
          if (kind === 'running') {
            const config = await ok(virsh(gd.uri, 'metadata', name(kind), '--uri', NS, '--config'), 'metadata --config');
            assert.match(config, new RegExp(`by="${backend}"`), 'in the persistent config too');
          }
          await conn.setMetadata(guest, NS, 'm', null);
          assert.equal(await conn.getMetadata(guest, NS), null);
        });
      }
    });
  }
});
