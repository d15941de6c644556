import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirshConnection } from '../../../src/connect/virsh.js';
import type { VirshChild, VirshResult, VirshRunner } from '../../../src/connect/virsh-process.js';
import { isVirError, VirErr } from '../../../src/libvirt/error.js';
import { waitFor } from '../../helpers/guestd.js';

type Reply = Partial<VirshResult> | Promise<Partial<VirshResult>>;

/** A runner that answers by command name and records every argv. */
function fakeRunner(answer: (args: readonly string[]) => Reply): { runner: VirshRunner; calls: string[][] } {
  const calls: string[][] = [];
  const runner: VirshRunner = {
    async run(args) {
      calls.push([...args]);
      const r = await answer(args);
      return { stdout: '', stderr: '', exitCode: 0, ...r };
    },
    spawn(): VirshChild {
      throw new Error('not used');
    },
  };
  return { runner, calls };
}

const G = { uuid: 'f846bbf7-ed89-4613-ad55-7364c218c20d', name: 'g', id: 3 };
const MiB = 1024 * 1024;
const cmd = (args: readonly string[]) => args.find((a, i) => i > 0 && !a.startsWith('-') && args[i - 1] !== '-c');

describe('VirshConnection argv', () => {
  it('passes -q -c URI, -r when read-only, and names guests by UUID after --domain', async () => {
    const { runner, calls } = fakeRunner(() => ({}));
    const c = new VirshConnection('guest+unix:///system?socket=/x y', { runner, readonly: true });
    await c.destroy(G);
    await c.start(G, { bypassCache: true, forceBoot: true }).catch(() => {});
    assert.deepEqual(calls[0], ['-q', '-c', 'guest+unix:///system?socket=/x y', '-r', 'destroy', '--domain', G.uuid]);
    assert.deepEqual(calls[1], ['-q', '-c', 'guest+unix:///system?socket=/x y', '-r', 'start', '--bypass-cache', '--force-boot', '--domain', G.uuid]);
  });

  it('default sends no -c', async () => {
    const { runner, calls } = fakeRunner(() => ({}));
    await new VirshConnection('default', { runner }).shutdown(G);
    assert.deepEqual(calls[0], ['-q', 'shutdown', '--domain', G.uuid]);
  });

  it('maps a failure to LibvirtError', async () => {
    const { runner } = fakeRunner(() => ({ exitCode: 1, stderr: 'error: argument unsupported: QEMU guest agent is not configured\n' }));
    await assert.rejects(new VirshConnection('qemu:///system', { runner }).setTime(G, { sync: true }),
      (e: unknown) => isVirError(e, VirErr.ARGUMENT_UNSUPPORTED));
  });
});

describe('VirshConnection.listGuests', () => {
  it('merges ids, table states and persistence', async () => {
    const { runner, calls } = fakeRunner((args) => {
      const a = args.join(' ');
      if (a.endsWith('--persistent --uuid')) return { stdout: `${G.uuid}\n` };
      if (a.endsWith('--uuid --id --name')) return { stdout: `${G.uuid} 3 g\n0a6c1e2b-6a51-4a0e-9b5c-1b5b8a0f0a11 - t x\n` };
      return { stdout: ' 3    g     running\n -    t x   shut off\n' };
    });
    const list = await new VirshConnection('qemu:///system', { runner }).listGuests({ which: 'all' });
    assert.deepEqual(list, [
      { uuid: G.uuid, id: 3, name: 'g', state: 'running', persistent: true },
      { uuid: '0a6c1e2b-6a51-4a0e-9b5c-1b5b8a0f0a11', id: -1, name: 't x', state: 'shutoff', persistent: false },
    ]);
    assert.ok(calls.every((c) => c.includes('--all')));
  });
});

describe('VirshConnection.managedSave', () => {
  it('polls domjobinfo while the save runs, several at once, and reports only answers newer than the last', async () => {
    const polls: ((processed: number) => void)[] = [];
    let finishSave: () => void = () => {};
    const { runner } = fakeRunner((args) => {
      if (cmd(args) === 'managedsave') return new Promise((resolve) => (finishSave = () => resolve({})));
      return new Promise((resolve) =>
        polls.push((mib) => resolve({ stdout: `Job type: Unbounded\nData processed: ${mib}.000 MiB\nData total: 100.000 MiB\n` })),
      );
    });
    const seen: number[] = [];
    const saving = new VirshConnection('qemu:///system', { runner }).managedSave(G, {
      onProgress: (p) => seen.push(p.dataProcessed! / MiB),
      progressIntervalMs: 1,
    });
    await waitFor('two polls in flight', () => polls.length >= 2, 5000, 1);
    polls[1]!(20); // the second answers first
    await waitFor('its report', () => seen.length === 1, 5000, 1);
    polls[0]!(10); // older than what was reported: dropped
    await waitFor('a third poll', () => polls.length >= 3, 5000, 1);
    polls[2]!(30);
    await waitFor('its report', () => seen.length === 2, 5000, 1);
    finishSave();
    for (const answer of polls.slice(3)) answer(99); // polls still in flight when the save ended: never reported
    await saving;
    assert.deepEqual(seen, [20, 30]);
  });

  it('aborts through domjobabort and rejects with OPERATION_ABORTED', async () => {
    let release: () => void = () => {};
    const { runner, calls } = fakeRunner(async (args) => {
      if (cmd(args) === 'managedsave') {
        await new Promise<void>((r) => (release = r));
        return { exitCode: 1, stderr: "error: Failed to save domain 'g' state\nerror: operation aborted: job 'domain save' canceled by client\n" };
      }
      if (cmd(args) === 'domjobabort') release();
      return {};
    });
    const ac = new AbortController();
    const saving = new VirshConnection('qemu:///system', { runner }).managedSave(G, { signal: ac.signal });
    ac.abort(); // the save has been asked for already (runner.run is called at once)
    await assert.rejects(saving, (e: unknown) => isVirError(e, VirErr.OPERATION_ABORTED));
    assert.ok(calls.some((c) => c.includes('domjobabort') && c.includes(G.uuid)));
  });
});
