// The `dd oflag=direct` writer (BYPASS_CACHE where Node cannot align a buffer): dd failing must fail the save — the
// guest then runs on — and never surface as an unhandled pipe error that kills the guest.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ddWriter } from '../../../src/guest/direct-io.js';

const dir = mkdtempSync(join(tmpdir(), 'gd-dio-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('dd writer', () => {
  it('dd exiting early (cannot open its output) fails the writes and finish, nothing thrown elsewhere', async () => {
    const writer = ddWriter(join(dir, 'no-such-dir', 'img.part'), 1 << 20);
    writer.scratch.fill(7);
    let failed = false;
    try {
      // the pipe accepts a first chunk or two before dd's exit is seen
      for (let i = 0; i < 64; i++) await writer.write(1 << 20);
    } catch (err) {
      failed = true;
      assert.match((err as Error).message, /dd/);
    }
    if (!failed) await assert.rejects(writer.finish(), /dd oflag=direct failed/);
    else await writer.abort();
  });
});
