// Command-line habits of libvirt-guests: -h wherever --help works, "did you mean" for a mistyped command or flag,
// one error style for every error (oclif's parse errors included: what, where, what to do), each error once and on
// stderr, status within LSB's status codes (0-4), and the commands without the action flags saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { runGuests, sandbox, type CliRun } from '../../helpers/cli.js';

const errorLines = (r: CliRun): string[] => r.stderr.split('\n').filter((l) => l.startsWith('error:'));

/** one error in the project's style, nothing of oclif's, nothing on stdout */
function oneError(r: CliRun, exit: number, message: RegExp, hint?: RegExp): void {
  assert.equal(r.exitCode, exit, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(errorLines(r).length, 1, r.stderr);
  assert.match(r.stderr, message);
  if (hint) assert.match(r.stderr.split('\n').slice(1).join('\n'), hint);
  assert.doesNotMatch(r.stderr, /›|See more help|USAGE|FLAGS/, 'no oclif error block, no help dump');
}

test('-h works wherever --help does: the program, each command, help COMMAND', async () => {
  const root = await runGuests(['--help']);
  assert.equal(root.exitCode, 0);
  assert.deepEqual(await runGuests(['-h']), root);
  for (const cmd of ['status', 'stop', 'try-restart']) {
    const long = await runGuests([cmd, '--help']);
    assert.equal(long.exitCode, 0, cmd);
    assert.match(long.stdout, /^USAGE/m, cmd);
    assert.deepEqual(await runGuests([cmd, '-h']), long, `${cmd} -h`);
    assert.deepEqual(await runGuests(['help', cmd]), long, `help ${cmd}`);
  }
});

test('a mistyped command: exit 2, the nearest command and the usage line; the same for help TOPIC', async () => {
  const sb = sandbox();
  for (const argv of [['stauts'], ['help', 'stauts'], ['stauts', '--help']]) {
    const r = await runGuests(argv, sb.env);
    oneError(r, 2, /^error: unknown command "stauts"\n/, /Did you mean "status"\?/);
    assert.match(r.stderr, /Usage: libvirt-guests \{condrestart\|.*\|try-restart\}/);
  }
  oneError(await runGuests(['frobnicate'], sb.env), 2, /^error: unknown command "frobnicate"\n {2}Usage: /);
});

test('topics separated by a space: `policy` shows its commands, `policy frob` is an unknown command (exit 2)', async () => {
  const sb = sandbox();
  const topic = await runGuests(['policy'], sb.env);
  assert.equal(topic.exitCode, 0, topic.stderr);
  assert.match(topic.stdout, /policy set\s.*\n(.*\n)*\s+policy show\s/);
  assert.deepEqual(await runGuests(['help', 'policy'], sb.env), topic);
  oneError(await runGuests(['policy', 'frob'], sb.env), 2, /^error: unknown command "policy frob"\n/, /Did you mean "policy show"\?.*\|policy set\|policy show\|policy unset\|/);
  assert.match((await runGuests(['policy', 'show', '--help'], sb.env)).stdout, /^USAGE\n {2}\$ libvirt-guests policy show \[NAME\.\.\.\]/m);
  oneError(await runGuests(['policy', 'show', '--frob'], sb.env), 2, /^error: policy show: unknown flag --frob\n/, /See 'libvirt-guests policy show --help'/);
});

test('oclif\'s parse errors in the project\'s style: which command, what is wrong, what to do; exit 2', async () => {
  const sb = sandbox();
  oneError(await runGuests(['stop', '--jsno'], sb.env), 2, /^error: stop: unknown flag --jsno\n/, /Did you mean --json\? See 'libvirt-guests stop --help'/);
  oneError(await runGuests(['stop', '--frob'], sb.env), 2, /^error: stop: unknown flag --frob\n {2}See 'libvirt-guests stop --help'/);
  oneError(await runGuests(['stop', 'extra'], sb.env), 2, /^error: stop: unexpected argument "extra"\n/, /stop takes no arguments/);
  oneError(await runGuests(['stop', '--backend', 'ssh'], sb.env), 2, /^error: stop: expected --backend=ssh to be one of: auto, native, virsh\n/);
  oneError(await runGuests(['start', '--config'], sb.env), 2, /^error: start: flag --config expects a value\n/);
});

test('status stays within LSB\'s status codes: every error is 4, "status unknown"', async () => {
  const bad = sandbox('ON_SHUTDOWN=hibernate\n');
  oneError(await runGuests(['status'], bad.env), 4, /^error: .*:1: ON_SHUTDOWN="hibernate" is not valid/);
  const json = await runGuests(['status', '--json'], bad.env);
  assert.equal(json.exitCode, 4);
  assert.equal(JSON.parse(json.stdout).exit, 4, 'the JSON says what the exit says');
  const sb = sandbox();
  oneError(await runGuests(['status', '--frob'], sb.env), 4, /^error: status: unknown flag --frob/);
  oneError(await runGuests(['status', 'extra'], sb.env), 4, /^error: status: unexpected argument "extra"/);
});

test('try-restart is condrestart under its other name; the help of both states the condition', async () => {
  const cond = await runGuests(['condrestart', '--help']);
  const tryRestart = await runGuests(['try-restart', '--help']);
  assert.match(cond.stdout.replace(/\s+/g, ' '), /DESCRIPTION .* Only when the service was started \(its lock file exists\): stop, then start/);
  assert.equal(tryRestart.stdout.replaceAll('try-restart', 'condrestart'), cond.stdout);
});

test('the commands without --dry-run, --backend and --quiet say why, in their help and when given one', async () => {
  const sb = sandbox();
  for (const [cmd, exit] of [['status', 4], ['reload', 2], ['force-reload', 2]] as const) {
    const help = await runGuests([cmd, '--help']);
    assert.match(help.stdout.replace(/\s+/g, ' '), /takes no --dry-run, --backend or --quiet: it /, cmd);
    for (const flag of ['--dry-run', '--backend=virsh', '-q']) {
      const r = await runGuests([cmd, flag], sb.env);
      oneError(r, exit, new RegExp(`^error: ${cmd}: ${flag.replace(/=.*/, '')} does not apply\\n {2}${cmd} takes no --dry-run, --backend or --quiet: it `));
    }
  }
});

test('an unreachable URI is said once, on stderr (with -q too); stdout keeps the result', async () => {
  const sb = sandbox('URIS=guest+unix:///system?socket=/nonexistent/guestd-sock\nCONNECT_RETRIES=0\n');
  for (const argv of [['stop'], ['stop', '-q'], ['start'], ['gueststatus'], ['gueststatus', '-q']]) {
    if (argv[0] === 'start') writeFileSync(sb.listFile, 'guest+unix:///system?socket=/nonexistent/guestd-sock 2f0d3ba5-b58f-44d1-98b3-ef4038d28c5a\n');
    const r = await runGuests(argv, sb.env);
    assert.equal(r.exitCode, 1, `${argv.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.match(/ENOENT/g)?.length, 1, `${argv.join(' ')}: the error once on stderr:\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /ENOENT/, `${argv.join(' ')}: no error on stdout`);
    assert.match(r.stdout, argv[0] === 'gueststatus' ? /^\* guest\+unix:\S+ URI:$/m : /1 URI not reached/, argv.join(' '));
  }
});
