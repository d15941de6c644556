import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProfile, detectProfile, parseOsRelease, profile, profileFromOsRelease, settingOrigins } from '../../../src/config/distribution.js';
import { statePaths } from '../../../src/config/paths.js';
import { parseConfig, type LoadedConfig } from '../../../src/config/sysconfig.js';
import { defaultConfig } from '../../../src/config/variables.js';
import { ConfigError } from '../../../src/errors.js';
import type { Files } from '../../../src/effects/files.js';

const OS_RELEASE = {
  debian12: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  ubuntu: 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
  mint: 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
  fedora: 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n',
  rocky: "NAME='Rocky Linux'\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
  arch: 'NAME="Arch Linux"\nID=arch\n',
};

function filesWith(contents: Record<string, string>): Files {
  return { readText: async (f: string) => contents[f] ?? null } as unknown as Files;
}

test('os-release: ID and ID_LIKE, quoted or not', () => {
  assert.deepEqual(parseOsRelease(OS_RELEASE.mint), { id: 'linuxmint', idLike: ['ubuntu', 'debian'] });
  assert.deepEqual(parseOsRelease(OS_RELEASE.rocky), { id: 'rocky', idLike: ['rhel', 'centos', 'fedora'] });
  assert.deepEqual(parseOsRelease(''), { id: '', idLike: [] });
  // comments, blank lines, quotes, CRLF line ends
  assert.deepEqual(parseOsRelease('# a comment\r\n\r\nNAME="say hi"\r\nID="myos"\r\nID_LIKE=\'debian\'\r\n'), { id: 'myos', idLike: ['debian'] });
});

test('Debian and its derivatives get the Debian profile, the others upstream', () => {
  const family = (text: string) => profileFromOsRelease(text, '/etc/os-release').name;
  assert.equal(family(OS_RELEASE.debian12), 'debian');
  assert.equal(family(OS_RELEASE.ubuntu), 'debian');
  assert.equal(family(OS_RELEASE.mint), 'debian');
  assert.equal(family(OS_RELEASE.fedora), 'upstream');
  assert.equal(family(OS_RELEASE.rocky), 'upstream');
  assert.equal(family(OS_RELEASE.arch), 'upstream');
  assert.equal(profileFromOsRelease(OS_RELEASE.ubuntu, '/etc/os-release').chosenBy, '/etc/os-release: ID=ubuntu, ID_LIKE=debian');
});

test('detection: $LIBVIRT_GUESTS_PROFILE first, then /etc/os-release, then /usr/lib/os-release, else upstream', async () => {
  const debianHost = filesWith({ '/etc/os-release': OS_RELEASE.debian12 });
  assert.equal((await detectProfile({}, debianHost)).name, 'debian');
  assert.equal((await detectProfile({ LIBVIRT_GUESTS_PROFILE: 'auto' }, debianHost)).name, 'debian');
  const forced = await detectProfile({ LIBVIRT_GUESTS_PROFILE: 'upstream' }, debianHost);
  assert.deepEqual([forced.name, forced.chosenBy], ['upstream', '$LIBVIRT_GUESTS_PROFILE=upstream']);
  assert.equal((await detectProfile({}, filesWith({ '/usr/lib/os-release': OS_RELEASE.ubuntu }))).name, 'debian');
  const bare = await detectProfile({}, filesWith({}));
  assert.deepEqual([bare.name, bare.chosenBy], ['upstream', 'no /etc/os-release or /usr/lib/os-release']);
});

test('an unknown profile name is refused with exit 6, naming the allowed ones', async () => {
  await assert.rejects(detectProfile({ LIBVIRT_GUESTS_PROFILE: 'fedora' }, filesWith({})), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exit, 6);
    assert.match(err.message, /\$LIBVIRT_GUESTS_PROFILE="fedora" is not a profile: allowed values are "auto", "upstream", "debian"/);
    return true;
  });
});

function loaded(text: string, name: 'debian' | 'upstream'): LoadedConfig {
  return applyProfile({ ...parseConfig(text, '/etc/default/libvirt-guests'), source: { file: '/etc/default/libvirt-guests', origin: 'search' } }, profile(name, 'test'));
}

test("the Debian profile: ON_BOOT=ignore and ON_SHUTDOWN=shutdown unless the file says otherwise; each value's origin", () => {
  const stock = loaded('# all commented\n#ON_SHUTDOWN=suspend\n', 'debian');
  assert.deepEqual(stock.config, { ...defaultConfig(), ON_BOOT: 'ignore', ON_SHUTDOWN: 'shutdown' });
  const edited = loaded('URIS=qemu:///system\nON_SHUTDOWN=suspend\n', 'debian');
  assert.equal(edited.config.ON_SHUTDOWN, 'suspend');
  assert.equal(edited.config.ON_BOOT, 'ignore');
  const origins = settingOrigins(edited);
  assert.equal(origins.URIS, '/etc/default/libvirt-guests:1');
  assert.equal(origins.ON_SHUTDOWN, '/etc/default/libvirt-guests:2');
  assert.equal(origins.ON_BOOT, 'Debian default');
  assert.equal(origins.SHUTDOWN_TIMEOUT, 'built-in default');
  assert.deepEqual(loaded('', 'upstream').config, defaultConfig());
  assert.ok(Object.values(settingOrigins(loaded('', 'upstream'))).every((o) => o === 'built-in default'));
});

test('the lock file follows the profile; a flag or $LIBVIRT_GUESTS_LOCK_FILE wins, and each says where it came from', () => {
  const debian = profile('debian', 'test');
  assert.deepEqual(statePaths({}, {}, debian), {
    listFile: '/var/lib/libvirt/libvirt-guests',
    lockFile: '/var/lock/libvirt-guests',
    origins: { listFile: 'built-in default', lockFile: 'Debian default' },
  });
  assert.equal(statePaths({}, {}, profile('upstream', 'test')).lockFile, '/var/lock/subsys/libvirt-guests');
  assert.deepEqual(statePaths({}, { LIBVIRT_GUESTS_LOCK_FILE: '/x' }, debian).origins.lockFile, '$LIBVIRT_GUESTS_LOCK_FILE');
  assert.deepEqual(statePaths({ lockFile: '/y', listFile: '/z' }, { LIBVIRT_GUESTS_LOCK_FILE: '/x' }, debian).origins, {
    listFile: '--list-file',
    lockFile: '--lock-file',
  });
});
