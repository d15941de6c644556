// The order of Connection.listGuests is virsh's, with real virsh as the oracle: running guests by id, then the
// inactive ones by name compared ASCII case-insensitively (virsh's strcasecmp, not the locale's collation), on
// both backends, whatever order the daemon's own list comes in.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openConnection, type Backend } from '../../../src/connect/index.js';
import { cleanupAllGuestd, startGuestd, type GuestdInstance } from '../../helpers/guestd.js';
import { ok } from '../../helpers/guests.js';
import { guestXml, virsh } from '../../helpers/virsh.js';

// upper case sorts before lower case and '_' between them in a byte-wise compare, not in strcasecmp
const INACTIVE = ['b-Mid', 'B-low', 'a_under', 'A-Up', 'Zulu', 'z-2', '_lead', 'c9', 'C10', 'éclair'];
const RUNNING = ['run-late-Z', 'Run-early-a', 'run-mid'];

describe('listGuests lists in virsh order', () => {
  let gd: GuestdInstance;
  const define = async (name: string): Promise<void> => {
    const f = path.join(gd.dir, `def-${INACTIVE.indexOf(name)}-${RUNNING.indexOf(name)}.xml`);
    writeFileSync(f, guestXml(name, { 'shutdown-seconds': 0 }, 4));
    await ok(virsh(gd.uri, 'define', f), `define ${name}`);
  };

  before(async () => {
    gd = await startGuestd();
    for (const name of [...INACTIVE, ...RUNNING]) await define(name);
    // started in an order that differs from both the names' and the definitions' order: ids 1, 2, 3
    for (const name of ['run-mid', 'run-late-Z', 'Run-early-a']) await ok(virsh(gd.uri, 'start', name), `start ${name}`);
  });
  after(cleanupAllGuestd);

  for (const backend of ['native', 'virsh'] as const satisfies readonly Backend[]) {
    it(`${backend} backend: every guest, running ones by id first, then the rest as virsh sorts them`, async () => {
      const expected = (await ok(virsh(gd.uri, 'list', '--all', '--name'), 'virsh list')).split('\n').filter(Boolean);
      assert.deepEqual(expected.slice(0, 3), ['run-mid', 'run-late-Z', 'Run-early-a'], 'virsh itself lists running guests by id');
      const conn = await openConnection(gd.uri, { backend });
      try {
        const all = await conn.listGuests({ which: 'all' });
        assert.deepEqual(
          all.map((g) => g.name),
          expected,
        );
        assert.deepEqual(
          (await conn.listGuests({ which: 'inactive' })).map((g) => g.name),
          expected.slice(3),
        );
      } finally {
        await conn.close();
      }
    });
  }
});
