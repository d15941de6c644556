import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runGuests, sandbox } from '../../helpers/cli.js';

test('status: the three states with exit 3/0/3, driven only by the list and lock files', async () => {
  const sb = sandbox();
  let r = await runGuests(['status'], sb.env);
  assert.deepEqual([r.stdout, r.exitCode], ['stopped, with no saved guests', 3]);

  writeFileSync(sb.lockFile, '');
  r = await runGuests(['status'], sb.env);
  assert.deepEqual([r.stdout, r.exitCode], ['started', 0]);

  writeFileSync(sb.listFile, 'qemu:///system 2f0d3ba5-b58f-44d1-98b3-ef4038d28c5a\n');
  r = await runGuests(['status'], sb.env);
  assert.deepEqual([r.stdout, r.exitCode], ['stopped, with saved guests', 3]);
});

test('status: flags override the environment', async () => {
  const sb = sandbox();
  const other = path.join(sb.dir, 'other.lock');
  writeFileSync(other, '');
  const r = await runGuests(['status', '--lock-file', other], sb.env);
  assert.deepEqual([r.stdout, r.exitCode], ['started', 0]);
});

test('status --json gives the same as an object', async () => {
  const sb = sandbox();
  writeFileSync(sb.listFile, '');
  const r = await runGuests(['status', '--json'], sb.env);
  assert.equal(r.exitCode, 3);
  const result = JSON.parse(r.stdout);
  assert.deepEqual(result, {
    command: 'status',
    state: 'stopped-with-saved-guests',
    message: 'stopped, with saved guests',
    exit: 3,
    listFile: sb.listFile,
    lockFile: sb.lockFile,
  });
});

test('a bad ON_SHUTDOWN on line 7 exits 6 naming the file, line, variable and allowed values', async () => {
  const sb = sandbox('# libvirt-guests\n\nURIS=default\nON_BOOT=start\n\n# the action\nON_SHUTDOWN=hibernate\n');
  const r = await runGuests(['reload'], sb.env);
  assert.equal(r.exitCode, 6);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`${sb.config.replace(/[.]/g, '\\.')}:7: ON_SHUTDOWN="hibernate" is not valid`));
  assert.match(r.stderr, /"suspend" or "shutdown"/);
});

test('command substitution in the config exits 6 and is never run', async () => {
  for (const value of ['$(touch CANARY)', '`touch CANARY`', '"$(touch CANARY)"']) {
    const sb = sandbox(`URIS=${value}\n`);
    const r = await runGuests(['reload'], sb.env, sb.dir);
    assert.equal(r.exitCode, 6, value);
    assert.match(r.stderr, /:1: .*URIS.*needs a shell/, value);
    assert.equal(existsSync(path.join(sb.dir, 'CANARY')), false, `${value} created the canary`);
  }
});

test('every command validates the config first: reload and force-reload report; status says its status is unknown', async () => {
  const good = sandbox('SHUTDOWN_TIMOUT=10\nON_SHUTDOWN=shutdown\n');
  for (const cmd of ['reload', 'force-reload']) {
    const r = await runGuests([cmd], good.env);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /is valid/);
    assert.match(r.stdout, /ON_SHUTDOWN=shutdown/);
    assert.match(r.stderr, /:1: unknown variable SHUTDOWN_TIMOUT \(did you mean SHUTDOWN_TIMEOUT\?\)/);
    const json = JSON.parse((await runGuests([cmd, '--json'], good.env)).stdout);
    assert.equal(json.command, cmd);
    assert.equal(json.config.ON_SHUTDOWN, 'shutdown');
  }
  const bad = sandbox('START_DELAY=soon\n');
  for (const [cmd, exit] of [['reload', 6], ['force-reload', 6], ['stop', 6], ['status', 4]] as const) {
    const r = await runGuests([cmd], bad.env);
    assert.equal(r.exitCode, exit, cmd);
    assert.match(r.stderr, /:1: START_DELAY="soon" is not valid/);
  }
  const json = await runGuests(['reload', '--json'], bad.env);
  assert.equal(JSON.parse(json.stdout).exit, 6);
});

test('a missing --config file exits 6', async () => {
  const sb = sandbox();
  const r = await runGuests(['reload', '--config', path.join(sb.dir, 'nope')], sb.env);
  assert.equal(r.exitCode, 6);
  assert.match(r.stderr, /does not exist/);
});

test('usage errors exit 2: no command, unknown command, unknown flag', async () => {
  const sb = sandbox();
  const none = await runGuests([], sb.env);
  assert.equal(none.exitCode, 2);
  assert.match(none.stdout, /^Usage: libvirt-guests \{.*status.*\}/);
  const unknown = await runGuests(['frobnicate'], sb.env);
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const flag = await runGuests(['reload', '--frob'], sb.env);
  assert.equal(flag.exitCode, 2);
});

test('--help lists every command with a description and an example; status --help has examples', async () => {
  const root = await runGuests(['--help']);
  assert.equal(root.exitCode, 0);
  for (const cmd of ['status', 'reload', 'force-reload']) {
    assert.match(root.stdout, new RegExp(`\\n  ${cmd} +\\S`), cmd);
    assert.match(root.stdout, new RegExp(`e\\.g\\. libvirt-guests ${cmd}`), cmd);
  }
  const status = await runGuests(['status', '--help']);
  assert.equal(status.exitCode, 0);
  assert.match(status.stdout, /EXAMPLES[\s\S]*\$ libvirt-guests status --json/);
});

test('start with no list file marks the service started, creating the lock directory if missing', async () => {
  const sb = sandbox();
  const lock = path.join(sb.dir, 'subsys', 'libvirt-guests');
  const r = await runGuests(['start', '--lock-file', lock], sb.env);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'start: no saved guests to resume');
  assert.equal(existsSync(lock), true);
  assert.deepEqual([(await runGuests(['status', '--lock-file', lock], sb.env)).stdout], ['started']);
});
