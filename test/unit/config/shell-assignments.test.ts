import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShellAssignments } from '../../../src/config/shell-assignments.js';
import { parseConfig } from '../../../src/config/sysconfig.js';
import { ConfigError } from '../../../src/errors.js';

const parse = (text: string) => parseShellAssignments(text, '/etc/test.conf');

function refuses(text: string, line: number, pattern: RegExp, variable?: string): void {
  assert.throws(
    () => parse(text),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.equal(err.exit, 6);
      assert.equal(err.line, line, `line of: ${err.message}`);
      assert.equal(err.file, '/etc/test.conf');
      if (variable) assert.equal(err.variable, variable);
      assert.match(err.message, /^\/etc\/test\.conf:\d+: /);
      assert.match(err.message, pattern);
      assert.ok(err.hint, 'says what to do');
      return true;
    },
  );
}

test('plain, exported, quoted and commented assignments', () => {
  const got = parse(
    [
      '# comment',
      '',
      'URIS=default',
      'export ON_BOOT=ignore',
      "START_DELAY='5'",
      'ON_SHUTDOWN="shutdown"   # trailing comment',
      "   SYNC_TIME=1\t",
      'EMPTY=',
      "QUOTED_EMPTY=''",
      'export ALREADY',
      "SPACES='a b  c'",
      'A=1 B=2',
      "HASH='a#b'",
      'CRLF=x\r',
    ].join('\n'),
  );
  assert.deepEqual(
    got.map((a) => [a.name, a.value, a.line]),
    [
      ['URIS', 'default', 3],
      ['ON_BOOT', 'ignore', 4],
      ['START_DELAY', '5', 5],
      ['ON_SHUTDOWN', 'shutdown', 6],
      ['SYNC_TIME', '1', 7],
      ['EMPTY', '', 8],
      ['QUOTED_EMPTY', '', 9],
      ['SPACES', 'a b  c', 11],
      ['A', '1', 12],
      ['B', '2', 12],
      ['HASH', 'a#b', 13],
      ['CRLF', 'x', 14],
    ],
  );
});

test('a quoted value may span lines, and later lines keep their numbers', () => {
  const got = parse("URIS='qemu:///system\n  guest:///system'\nON_BOOT=start\n");
  assert.equal(got[0]!.value, 'qemu:///system\n  guest:///system');
  assert.equal(got[0]!.line, 1);
  assert.deepEqual([got[1]!.name, got[1]!.line], ['ON_BOOT', 3]);
});

test('command substitution is refused, in every form', () => {
  refuses('URIS=$(touch CANARY)', 1, /command substitution/, 'URIS');
  refuses('# x\nURIS=`touch CANARY`', 2, /backticks/, 'URIS');
  refuses('URIS="$(touch CANARY)"', 1, /needs a shell/, 'URIS');
  refuses('URIS="a `id`"', 1, /backticks/, 'URIS');
});

test('variable expansion, continuations, escapes and operators are refused', () => {
  refuses('URIS=$HOME', 1, /variable expansion/, 'URIS');
  refuses('URIS=${X}', 1, /"\$"/, 'URIS');
  refuses('URIS=a\\\nb', 1, /line continuation/, 'URIS');
  refuses('URIS=a\\ b', 1, /backslash/, 'URIS');
  refuses('URIS="a\\"b"', 1, /backslash/, 'URIS');
  refuses('URIS=a;rm', 1, /operator ";"/, 'URIS');
  refuses('URIS=a|b', 1, /operator "\|"/, 'URIS');
  refuses('URIS=~/x', 1, /home directory/, 'URIS');
});

test('lines that are not assignments are refused, never run', () => {
  refuses('. /etc/other', 1, /not a NAME=value assignment/);
  refuses('\n\nif true; then URIS=x; fi', 3, /not a NAME=value assignment/);
  refuses('URIS = default', 1, /no spaces around "="/, 'URIS');
  refuses('URIS+=x', 1, /no spaces around "="|not an assignment/, 'URIS');
  refuses('URIS=a b', 1, /unquoted space/, 'URIS');
});

test('quoting traps are refused: an unquoted "#" inside a word, a quote never closed', () => {
  refuses('URIS=a#b', 1, /unquoted "#"/, 'URIS');
  refuses("\nURIS='never closed\nON_BOOT=start", 2, /never closed/, 'URIS');
});

test('adjacent quoted and unquoted pieces make one value, as in a shell', () => {
  const got = parse(`ON_SHUTDOWN="shut"'down'\nURIS=qemu:///system' '"guest:///system"\nX=a'b'c\nE=''""`);
  assert.deepEqual(
    got.map((a) => [a.name, a.value]),
    [
      ['ON_SHUTDOWN', 'shutdown'],
      ['URIS', 'qemu:///system guest:///system'],
      ['X', 'abc'],
      ['E', ''],
    ],
  );
});

test('a UTF-8 byte order mark at the start of the file is ignored', () => {
  const got = parse('\uFEFFON_BOOT=ignore\n');
  assert.deepEqual(got.map((a) => [a.name, a.value, a.line]), [['ON_BOOT', 'ignore', 1]]);
  refuses('ON_BOOT=ignore\n\uFEFFON_SHUTDOWN=shutdown', 2, /not a NAME=value assignment/);
});

test('control characters in a value are refused, shown escaped', () => {
  refuses('URIS=a\u0000b', 1, /control character \\u0000/, 'URIS');
  refuses("URIS='a\u0007b'", 1, /control character \\u0007/, 'URIS');
  assert.equal(parse("URIS='a\tb'")[0]!.value, 'a\tb', 'a tab inside quotes is text');
});

test('an error quoting a huge line quotes only its beginning', () => {
  const huge = 'x'.repeat(10 * 1024 * 1024);
  for (const text of [`. ${huge}`, `URIS=a ${huge}`, `${huge}=1`, `URIS='${huge}'`, `ON_BOOT=${huge}`]) {
    assert.throws(
      () => parseConfig(text, '/etc/test.conf'),
      (err: unknown) => err instanceof ConfigError && err.message.length < 300 && (err.hint ?? '').length < 300,
    );
  }
});
