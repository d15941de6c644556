// The distribution profile as people meet it: `reload` shows each setting's value and origin, and with Debian's
// defaults a stock (all-commented) configuration shuts guests down and leaves them off at boot, as Debian's own
// libvirt-guests.sh does.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { profileFromOsRelease } from '../../../src/config/distribution.js';
import { runGuests, sandbox } from '../../helpers/cli.js';
import { cleanupAllGuestd } from '../../helpers/guestd.js';
import { startFleet } from '../../helpers/fleet.js';

after(cleanupAllGuestd);

/** the sandbox's env with the profile left to detection (or set to `profile`) and no lock file override */
function envWith(env: Record<string, string>, profile?: string): Record<string, string> {
  const { LIBVIRT_GUESTS_PROFILE: _p, LIBVIRT_GUESTS_LOCK_FILE: _l, ...rest } = env;
  return profile ? { ...rest, LIBVIRT_GUESTS_PROFILE: profile } : rest;
}

test('reload shows every setting with its origin: the file and line, the Debian default, the built-in default', async () => {
  const sb = sandbox('# edited\nON_SHUTDOWN=suspend\n');
  const r = await runGuests(['reload'], envWith(sb.env, 'debian'));
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^defaults: debian \(\$LIBVIRT_GUESTS_PROFILE=debian\)$/m);
  assert.match(r.stdout, new RegExp(`^  ON_SHUTDOWN=suspend +${sb.config}:2$`, 'm'));
  assert.match(r.stdout, /^ {2}ON_BOOT=ignore +Debian default$/m);
  assert.match(r.stdout, /^ {2}URIS=default +built-in default$/m);
  assert.match(r.stdout, /^ {2}lock file \/var\/lock\/libvirt-guests +Debian default$/m);
  assert.match(r.stdout, new RegExp(`^  list file ${sb.listFile} +\\$LIBVIRT_GUESTS_LIST_FILE$`, 'm'));
  const json = JSON.parse((await runGuests(['reload', '--json'], envWith(sb.env, 'debian'))).stdout);
  assert.equal(json.origins.ON_BOOT, 'Debian default');
  assert.equal(json.origins.ON_SHUTDOWN, `${sb.config}:2`);
  assert.deepEqual(json.lockFile, { path: '/var/lock/libvirt-guests', origin: 'Debian default' });
  const upstream = await runGuests(['reload'], envWith(sb.env, 'upstream'));
  assert.match(upstream.stdout, /^ {2}ON_BOOT=start +built-in default$/m);
  assert.match(upstream.stdout, /^ {2}lock file \/var\/lock\/subsys\/libvirt-guests +built-in default$/m);
});

test("without $LIBVIRT_GUESTS_PROFILE the profile follows this machine's /etc/os-release", async () => {
  const sb = sandbox();
  const r = await runGuests(['reload', '--json'], envWith(sb.env));
  assert.equal(r.exitCode, 0, r.stderr);
  if (existsSync('/etc/os-release')) {
    const expected = profileFromOsRelease(readFileSync('/etc/os-release', 'utf8'), '/etc/os-release');
    assert.deepEqual(JSON.parse(r.stdout).profile, { name: expected.name, chosenBy: expected.chosenBy });
  }
  const bad = await runGuests(['reload'], envWith(sb.env, 'redhat'));
  assert.equal(bad.exitCode, 6);
  assert.match(bad.stderr, /\$LIBVIRT_GUESTS_PROFILE="redhat" is not a profile/);
});

test("Debian's stock configuration keeps Debian's behaviour: stop shuts guests down, start leaves them off", async () => {
  const fleet = await startFleet({ plain: 2 });
  try {
    fleet.configure({ CONNECT_RETRIES: 0 }); // URIS only: every other value is a default
    const env = { ...fleet.sb.env, LIBVIRT_GUESTS_PROFILE: 'debian' };
    const stop = await runGuests(['stop', '--json'], env);
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.equal(JSON.parse(stop.stdout).action, 'shutdown');
    for (const g of fleet.guests) {
      assert.deepEqual(await fleet.state(g.name), { state: 'shutoff', reason: 1 }, `${g.name} shut down, not saved`);
      assert.equal(await fleet.hasManagedSave(g.name), false);
    }
    const start = await runGuests(['start'], env);
    assert.equal(start.exitCode, 0, start.stderr);
    for (const g of fleet.guests) assert.equal((await fleet.state(g.name)) !== 'gone' && (await fleet.state(g.name) as { state: string }).state, 'shutoff');
  } finally {
    await fleet.close();
  }
});
