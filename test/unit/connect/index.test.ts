import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostEffects } from '../../../src/connect/host-effects.js';
import { openConnectionDetailed } from '../../../src/connect/index.js';
import type { VirshRunner } from '../../../src/connect/virsh-process.js';
import { UsageError } from '../../../src/errors.js';

const effects: HostEffects = { uid: 0, env: {}, home: '/root', exists: () => false, readFile: () => null };

function recorder(): { runner: VirshRunner; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    runner: {
      run: async (args) => {
        calls.push([...args]);
        return { stdout: '', stderr: '', exitCode: 0 };
      },
      spawn: () => {
        throw new Error('not used');
      },
    },
  };
}

describe('openConnection', () => {
  it('uses virsh for an ssh URI, says why, and checks the connection with `virsh uri`', async () => {
    const { runner, calls } = recorder();
    const notes: string[] = [];
    const opened = await openConnectionDetailed('qemu+ssh://root@h/system', { effects, virshRunner: runner, onNote: (n) => notes.push(n) });
    assert.equal(opened.connection.backend, 'virsh');
    assert.equal(opened.connection.uri, 'qemu+ssh://root@h/system');
    assert.match(opened.note ?? '', /ssh/);
    assert.deepEqual(notes, [opened.note]);
    assert.deepEqual(calls, [['-q', '-c', 'qemu+ssh://root@h/system', 'uri']]);
  });

  it('forced virsh on a unix URI passes the URI unchanged, and -r when read-only', async () => {
    const { runner, calls } = recorder();
    const opened = await openConnectionDetailed('guest+unix:///system?socket=/s', { backend: 'virsh', readonly: true, effects, virshRunner: runner });
    assert.equal(opened.note, undefined);
    assert.deepEqual(opened.resolved.target, { transport: 'unix', socketPath: '/s' });
    assert.deepEqual(calls, [['-q', '-c', 'guest+unix:///system?socket=/s', '-r', 'uri']]);
  });

  it('default with nothing configured runs virsh without -c', async () => {
    const { runner, calls } = recorder();
    await openConnectionDetailed('default', { effects, virshRunner: runner });
    assert.deepEqual(calls, [['-q', 'uri']]);
  });

  it('refuses native for a URI only virsh can open', async () => {
    await assert.rejects(openConnectionDetailed('qemu+ssh://h/system', { backend: 'native', effects }), UsageError);
  });
});
