import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIG_CANDIDATES, locateConfig, parseConfig } from '../../../src/config/sysconfig.js';
import { VARIABLES, defaultConfig, nearestVariable } from '../../../src/config/variables.js';
import { ConfigError } from '../../../src/errors.js';
import type { Files } from '../../../src/effects/files.js';

import { repoPath } from '../../helpers/repo.js';

const fixture = (name: string) => readFileSync(repoPath('test/fixtures/sysconfig', name), 'utf8');

/** the variables that are ours, not the original's */
const OUR_DEFAULTS = {
  PARALLEL_SUSPEND: 4,
  PARALLEL_START: 4,
  FALLBACK: false,
  STOP_DEADLINE: 0,
  CONNECT_RETRIES: 10,
  RETRIES_SLEEP: 1,
  LOCK_TIMEOUT: 300,
  MIGRATE_URI: '',
  PARALLEL_MIGRATE: 2,
  MIGRATE_TIMEOUT: 300,
  MIGRATE_LIVE: true,
  MIGRATE_FALLBACK: 'suspend',
  MIGRATE_RETURN: true,
  MIGRATE_RETURN_URI: '',
};

const UPSTREAM_DEFAULTS = {
  URIS: ['default'],
  ON_BOOT: 'start',
  START_DELAY: 0,
  ON_SHUTDOWN: 'suspend',
  PARALLEL_SHUTDOWN: 0,
  SHUTDOWN_TIMEOUT: 300,
  BYPASS_CACHE: false,
  SYNC_TIME: false,
  PERSISTENT_ONLY: 'default',
  ...OUR_DEFAULTS,
};

test('defaults are upstream defaults', () => {
  assert.deepEqual(defaultConfig(), UPSTREAM_DEFAULTS);
});

test("Debian's and Fedora's stock files parse to the documented defaults", () => {
  for (const name of ['debian-stock', 'fedora-stock']) {
    const got = parseConfig(fixture(name), name);
    assert.deepEqual(got.config, UPSTREAM_DEFAULTS, name);
    assert.deepEqual(got.warnings, [], name);
  }
});

test("Debian's defaults written out give Debian's values", () => {
  const { config } = parseConfig(fixture('debian-enabled'), 'f');
  assert.equal(config.ON_BOOT, 'ignore');
  assert.equal(config.ON_SHUTDOWN, 'shutdown');
  assert.equal(config.SYNC_TIME, true);
});

test('each variable accepts its allowed values', () => {
  const c = parseConfig(
    [
      "URIS='qemu:///system  guest+unix:///system?socket=/run/x default'",
      'ON_BOOT=ignore',
      'START_DELAY=12',
      'ON_SHUTDOWN=shutdown',
      'PARALLEL_SHUTDOWN=4',
      'SHUTDOWN_TIMEOUT=0',
      'BYPASS_CACHE=-3',
      'SYNC_TIME=0',
      'PERSISTENT_ONLY=true',
    ].join('\n'),
    'f',
  ).config;
  assert.deepEqual(c, {
    URIS: ['qemu:///system', 'guest+unix:///system?socket=/run/x', 'default'],
    ON_BOOT: 'ignore',
    START_DELAY: 12,
    ON_SHUTDOWN: 'shutdown',
    PARALLEL_SHUTDOWN: 4,
    SHUTDOWN_TIMEOUT: 0,
    BYPASS_CACHE: true,
    SYNC_TIME: false,
    PERSISTENT_ONLY: 'true',
    ...OUR_DEFAULTS,
  });
});

const BAD: [string, string, RegExp][] = [
  ['URIS', 'not-a-uri', /libvirt URIs/],
  ['ON_BOOT', 'yes', /"start" or "ignore"/],
  ['ON_BOOT', '', /"start" or "ignore"/],
  ['START_DELAY', '-1', /whole number/],
  ['START_DELAY', '1.5', /whole number/],
  ['ON_SHUTDOWN', 'hibernate', /"suspend" or "shutdown" or "migrate"/],
  ['PARALLEL_SHUTDOWN', 'four', /whole number/],
  ['SHUTDOWN_TIMEOUT', '-5', /whole number/],
  ['BYPASS_CACHE', 'yes', /0 \(off\) or 1 \(on\)/],
  ['SYNC_TIME', 'true', /0 \(off\) or 1 \(on\)/],
  ['PERSISTENT_ONLY', 'yes', /"default" or "true" or "false"/],
  ['PARALLEL_SUSPEND', '0', /1 or greater/],
  ['PARALLEL_START', 'x', /1 or greater/],
  ['FALLBACK', 'on', /0 \(off\) or 1 \(on\)/],
  ['STOP_DEADLINE', '-1', /whole number/],
  ['CONNECT_RETRIES', '2.5', /whole number/],
  ['RETRIES_SLEEP', 'x', /whole number/],
  ['LOCK_TIMEOUT', '1m', /whole number/],
  ['MIGRATE_URI', 'peer', /one libvirt URI/],
  ['MIGRATE_URI', 'qemu://a qemu://b', /one libvirt URI/],
  ['PARALLEL_MIGRATE', '0', /1 or greater/],
  ['MIGRATE_TIMEOUT', '-1', /whole number/],
  ['MIGRATE_LIVE', 'yes', /0 \(off\) or 1 \(on\)/],
  ['MIGRATE_FALLBACK', 'migrate', /"suspend" or "shutdown"/],
  ['MIGRATE_RETURN', 'x', /0 \(off\) or 1 \(on\)/],
  ['MIGRATE_RETURN_URI', 'here', /one libvirt URI/],
];

test('ON_SHUTDOWN=migrate without MIGRATE_URI exits 6 at the ON_SHUTDOWN line, saying what to set', () => {
  assert.throws(
    () => parseConfig('URIS=qemu:///system\nON_SHUTDOWN=migrate\n', '/etc/default/libvirt-guests'),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.exit === 6 &&
      /^\/etc\/default\/libvirt-guests:2: ON_SHUTDOWN="migrate" needs MIGRATE_URI/.test(err.message) &&
      /MIGRATE_URI=qemu\+tls:/.test(err.hint ?? ''),
  );
  const { config } = parseConfig("ON_SHUTDOWN=migrate\nMIGRATE_URI='guest+unix:///system?socket=/run/peer/sock'\n", 'f');
  assert.equal(config.ON_SHUTDOWN, 'migrate');
  assert.equal(config.MIGRATE_URI, 'guest+unix:///system?socket=/run/peer/sock');
});

for (const [name, value, allowed] of BAD) {
  test(`${name}=${JSON.stringify(value)} exits 6 naming file:line, variable, value and allowed values`, () => {
    const text = `# header\n\n${name}='${value}'\n`;
    assert.throws(
      () => parseConfig(text, '/etc/sysconfig/libvirt-guests'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.exit, 6);
        assert.equal(err.line, 3);
        assert.equal(err.variable, name);
        assert.ok(err.message.startsWith('/etc/sysconfig/libvirt-guests:3: '), err.message);
        assert.ok(err.message.includes(`${name}="${value}"`), err.message);
        assert.match(err.message, allowed);
        return true;
      },
    );
  });
}

test('unknown variables warn with the nearest known name and are ignored', () => {
  const got = parseConfig('SHUTDOWN_TIMOUT=5\nFOO=1\non_boot=ignore\n', 'f');
  assert.equal(got.config.SHUTDOWN_TIMEOUT, 300);
  assert.deepEqual(got.warnings, [
    'f:1: unknown variable SHUTDOWN_TIMOUT (did you mean SHUTDOWN_TIMEOUT?); it is ignored',
    'f:2: unknown variable FOO; it is ignored',
    'f:3: unknown variable on_boot (did you mean ON_BOOT?); it is ignored',
  ]);
  assert.equal(nearestVariable('PARALEL_SHUTDOWN'), 'PARALLEL_SHUTDOWN');
  assert.equal(nearestVariable('COMPLETELY_DIFFERENT'), undefined);
});

test('a later assignment wins, with a warning', () => {
  const got = parseConfig('ON_BOOT=ignore\nON_BOOT=start\n', 'f');
  assert.equal(got.config.ON_BOOT, 'start');
  assert.equal(got.setAt.ON_BOOT, 2);
  assert.match(got.warnings[0]!, /f:2: ON_BOOT is set again \(line 1/);
});

test('the shipped sysconfig file documents every variable with its default and sets nothing', () => {
  const text = readFileSync(repoPath('sysconfig/libvirt-guests'), 'utf8');
  for (const v of VARIABLES) assert.ok(text.includes(`\n#${v.name}=${v.defaultText}\n`), `${v.name} missing`);
  assert.deepEqual(parseConfig(text, 'shipped').config, UPSTREAM_DEFAULTS);
});

function fakeFiles(present: string[]): Files {
  const no = async () => {
    throw new Error('not used');
  };
  return { exists: async (f) => present.includes(f), readText: no, writeAtomic: no, touch: no, remove: no, rename: no };
}

test('lookup order: --config, then $LIBVIRT_GUESTS_CONFIG, then the distribution paths, else none', async () => {
  const all = ['/x/flag', '/x/env', ...CONFIG_CANDIDATES];
  assert.deepEqual(await locateConfig('/x/flag', { LIBVIRT_GUESTS_CONFIG: '/x/env' }, fakeFiles(all)), { file: '/x/flag', origin: 'flag' });
  assert.deepEqual(await locateConfig(undefined, { LIBVIRT_GUESTS_CONFIG: '/x/env' }, fakeFiles(all)), { file: '/x/env', origin: 'env' });
  assert.deepEqual(await locateConfig(undefined, {}, fakeFiles(all)), { file: '/etc/sysconfig/libvirt-guests', origin: 'search' });
  assert.deepEqual(await locateConfig(undefined, {}, fakeFiles(CONFIG_CANDIDATES.slice(1))), { file: '/etc/default/libvirt-guests', origin: 'search' });
  assert.deepEqual(await locateConfig(undefined, {}, fakeFiles(['/etc/conf.d/libvirt-guests'])), { file: '/etc/conf.d/libvirt-guests', origin: 'search' });
  assert.deepEqual(await locateConfig(undefined, {}, fakeFiles([])), { file: null, origin: 'none' });
  await assert.rejects(locateConfig('/missing', {}, fakeFiles([])), (e: unknown) => e instanceof ConfigError && e.exit === 6 && /--config/.test(e.hint ?? ''));
});
