// guestctl follows virsh's habits, checked against the real virsh on the same guestd where both print the same:
// `help CMD` and `CMD --help` (or -h) print the command's options, --version, -q drops headers and messages, an
// unknown help topic exits 1, a mistyped command or option gets "did you mean", every error goes to stderr once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupAllGuestd, programArgs, startGuestd, type GuestdInstance } from '../../helpers/guestd.js';
import { repoPath } from '../../helpers/repo.js';
import { guestXml, runProgram, virsh, type RunResult } from '../../helpers/virsh.js';

const run = (...args: string[]): Promise<RunResult> => runProgram(process.execPath, [...programArgs('src/guestctl/main.ts'), ...args]);
const nowhere = 'guest+unix:///system?socket=/nonexistent/guestd-sock';
const errorLines = (r: RunResult): number => r.stderr.split('\n').filter((l) => l.startsWith('error:')).length;

describe('guestctl, the way virsh does it', () => {
  let gd: GuestdInstance;
  before(async () => {
    gd = await startGuestd();
    for (const name of ['h1', 'h2']) {
      const file = path.join(gd.dir, `${name}.xml`);
      writeFileSync(file, guestXml(name));
      assert.equal((await virsh(gd.uri, 'define', file)).code, 0);
    }
  });
  after(cleanupAllGuestd);

  it('help CMD, CMD --help and CMD -h print the command\'s synopsis and options, without connecting', async () => {
    const outputs = [];
    for (const argv of [['help', 'domstate'], ['domstate', '--help'], ['domstate', '-h'], ['-c', nowhere, 'domstate', 'x', '--help']]) {
      const r = await run(...argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
      outputs.push(r.stdout);
    }
    assert.equal(new Set(outputs).size, 1, 'the same text every way');
    const text = outputs[0]!;
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS']) assert.match(text, new RegExp(`^  ${section}$`, 'm'), section);
    assert.match(text, /^ {4}domstate - guest state$/m);
    assert.match(text, /^ {4}domstate <domain> \[--reason\] \[--json\]$/m);
    assert.match(text, /^ {4}--reason +\S/m);
    assert.match(text, /^ {4}<domain> +\S/m);
  });

  it('an unknown help topic exits 1 (virsh: "command or command group doesn\'t exist"), with the nearest command', async () => {
    const r = await run('help', 'domsate');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: .*'domsate'/);
    assert.match(r.stderr, /did you mean 'domstate'\?/i);
    assert.equal(errorLines(r), 1);
  });

  it('help GROUP lists a group of commands, as virsh\'s help keywords', async () => {
    const r = await run('help', 'monitor');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {4}domstate +guest state$/m);
    assert.doesNotMatch(r.stdout, /^ {4}define /m);
  });

  it('--version and -v print the version of the package, without connecting', async () => {
    const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await run('-c', nowhere, flag);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${version}\n`, ''], flag);
    }
  });

  it('prints what real virsh prints, with and without -q (headers, messages and the closing blank line go)', async () => {
    // virsh first, then (after `undo` puts the guest back as it was) guestctl
    const same = async (argv: string[], undo?: string[]): Promise<void> => {
      const theirs = await virsh(gd.uri, ...argv);
      if (undo) assert.equal((await virsh(gd.uri, ...undo)).code, 0, undo.join(' '));
      const ours = await run('-c', gd.uri, ...argv);
      assert.equal(ours.code, theirs.code, `${argv.join(' ')}: ${ours.stderr}`);
      assert.equal(ours.stdout, theirs.stdout, argv.join(' '));
    };
    for (const q of [[], ['-q'], ['--quiet']]) {
      await same([...q, 'start', 'h1'], ['destroy', 'h1']);
      await same([...q, 'list', '--name']);
      await same([...q, 'list', '--all', '--uuid']);
      await same([...q, 'domstate', '--reason', 'h1']);
      await same([...q, 'dominfo', 'h2']);
      await same([...q, 'autostart', 'h2']);
      await same([...q, 'autostart', '--disable', 'h2']);
      await same([...q, 'metadata', 'h1', 'urn:guestd:behavior:1']);
      await same([...q, 'uri']);
      await same([...q, 'destroy', 'h1'], ['start', 'h1']);
    }
    const quiet = await run('-c', gd.uri, '-q', 'list', '--all');
    assert.doesNotMatch(quiet.stdout, /Name|---/, 'no table header');
    assert.match(quiet.stdout, /^ -\s+h1\s+shut off$/m);
  });

  it('a mistyped command or option: exit 2, what was wrong and the nearest name, once on stderr', async () => {
    const command = await run('-c', gd.uri, 'lsit');
    assert.equal(command.code, 2);
    assert.match(command.stderr, /^error: unknown command 'lsit'\n {2}.*did you mean 'list'\?/im);
    const option = await run('-c', gd.uri, 'list', '--al');
    assert.equal(option.code, 2);
    assert.match(option.stderr, /^error: list: unknown option '--al'\n {2}.*did you mean '--all'\?/im);
    const global = await run('--readonyl', 'list');
    assert.equal(global.code, 2);
    assert.match(global.stderr, /did you mean '--readonly'\?/i);
    for (const r of [command, option, global]) {
      assert.equal(r.stdout, '');
      assert.equal(errorLines(r), 1, r.stderr);
    }
  });

  it('a failure is one error on stderr and nothing on stdout', async () => {
    const r = await run('-c', gd.uri, 'dominfo', 'nope');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(errorLines(r), 1, r.stderr);
  });

  it('over the virsh backend, what only the native client can do says so (exit 1), and reading commands still work', async () => {
    // test:/// is a driver of the libvirt client library: only virsh opens it
    const info = await run('-c', 'test:///default', 'dominfo', 'test');
    assert.equal(info.code, 1);
    assert.match(info.stderr, /^error: 'dominfo' is not available over the virsh backend for test:\/\/\/default\n/);
    const state = await run('-c', 'test:///default', 'domstate', 'test');
    assert.deepEqual([state.code, state.stdout], [0, 'running\n\n'], state.stderr);
  });
});
