// guestctl's command line read against its command table: global options (getopt's way, as virsh), the command,
// its switches and arguments, and each mistake as a usage error that says what and what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors.js';
import { GROUPS } from '../../../src/guestctl/command.js';
import { commandHelp } from '../../../src/guestctl/help.js';
import { parseInvocation, type Invocation } from '../../../src/guestctl/invocation.js';
import { COMMANDS } from '../../../src/guestctl/table.js';

const parse = (...argv: string[]): Extract<Invocation, { kind: 'command' }> => {
  const inv = parseInvocation(argv, COMMANDS);
  assert.equal(inv.kind, 'command');
  return inv as Extract<Invocation, { kind: 'command' }>;
};
const usage = (argv: string[], message: RegExp, hint?: RegExp): void => {
  assert.throws(
    () => parseInvocation(argv, COMMANDS),
    (err: unknown) => err instanceof UsageError && err.exit === 2 && message.test(err.message) && (!hint || hint.test(err.hint ?? '')),
    argv.join(' '),
  );
};

test('global options before the command: -c/--connect/--connect=, -r, -q, and clusters as getopt reads them', () => {
  for (const argv of [['-c', 'guest:///system'], ['--connect', 'guest:///system'], ['--connect=guest:///system'], ['-cguest:///system']]) {
    assert.equal(parse(...argv, 'list').uri, 'guest:///system', argv.join(' '));
  }
  const inv = parse('-rq', '-c', 'qemu:///system', 'list', '--all');
  assert.deepEqual([inv.uri, inv.readonly, inv.quiet, inv.command.name, [...inv.flags]], ['qemu:///system', true, true, 'list', ['all']]);
  const plain = parse('list');
  assert.deepEqual([plain.uri, plain.readonly, plain.quiet], [null, false, false]);
  assert.equal(parse('-rqc', 'guest:///session', 'uri').uri, 'guest:///session');
});

test('-h/--help before a command is the global help, after one (or `help CMD`) that command\'s; -v/--version', () => {
  for (const argv of [['-h'], ['--help'], ['-r', '--help', 'list'], ['help']]) {
    const inv = parse(...argv);
    assert.deepEqual([inv.command.name, [...inv.args]], ['help', []], argv.join(' '));
  }
  for (const argv of [['domstate', '--help'], ['domstate', 'web1', '-h'], ['help', 'domstate']]) {
    const inv = parse(...argv);
    assert.deepEqual([inv.command.name, [...inv.args]], ['help', [['command', 'domstate']]], argv.join(' '));
  }
  assert.deepEqual(parseInvocation(['--version'], COMMANDS), { kind: 'version' });
  assert.deepEqual(parseInvocation(['-v', 'list'], COMMANDS), { kind: 'version' });
});

test('switches anywhere after the command, positionals in order, `--` ends the switches', () => {
  const inv = parse('undefine', 'web1', '--managed-save');
  assert.deepEqual([[...inv.args], [...inv.flags]], [[['domain', 'web1']], ['managed-save']]);
  assert.deepEqual([...parse('metadata', '--json', 'web1', 'urn:x').args], [['domain', 'web1'], ['uri', 'urn:x']]);
  assert.deepEqual([...parse('domstate', '--', '--odd-name').args], [['domain', '--odd-name']]);
});

test('every mistake is a usage error (exit 2) with what went wrong and what to do', () => {
  usage([], /^no command given$/, /'guestctl help'/);
  usage(['lsit'], /^unknown command 'lsit'$/, /^Did you mean 'list'\?/);
  usage(['frobnicate'], /^unknown command 'frobnicate'$/, /^'guestctl help' lists the commands\.$/);
  usage(['--readonyl', 'list'], /^unknown option '--readonyl'$/, /^Did you mean '--readonly'\?/);
  usage(['-x', 'list'], /^unknown option '-x'$/);
  usage(['-c'], /^-c needs a URI$/);
  usage(['--quiet=yes', 'list'], /^option '--quiet' takes no value$/);
  usage(['list', '--al'], /^list: unknown option '--al'$/, /^Did you mean '--all'\? 'guestctl help list'/);
  usage(['list', '--all=1'], /^list: option '--all' takes no value$/);
  usage(['start'], /^start: missing <domain> \(domain name or uuid\)$/, /'guestctl help start'/);
  usage(['metadata', 'web1'], /^metadata: missing <uri>/);
  usage(['start', 'a', 'b'], /^start: unexpected argument 'b'$/);
  usage(['uri', 'x'], /^uri: unexpected argument 'x'$/);
});

test('the table: unique names, known groups, every option and argument explained, a help page per command', () => {
  const names = COMMANDS.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  for (const c of COMMANDS) {
    assert.ok(GROUPS.some((g) => g.keyword === c.group), `${c.name}: group ${c.group}`);
    assert.ok(c.summary && c.description, c.name);
    for (const item of [...c.args, ...c.options]) assert.ok(item.help, `${c.name}: ${item.name} is explained`);
    const optional = c.args.findIndex((a) => a.optional);
    assert.ok(optional === -1 || c.args.slice(optional).every((a) => a.optional), `${c.name}: optional arguments come last`);
    assert.match(commandHelp(c), new RegExp(`^  NAME\\n    ${c.name} - `), c.name);
  }
});
