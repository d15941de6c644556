// Our Debian profile against what Debian's libvirt packages install on this machine: the defaults at the top of
// Debian's libvirt-guests.sh, and its stock /etc/default/libvirt-guests. The machine's own configuration is read
// only when dpkg says it is still the stock file (an admin's edits are not Debian's defaults).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { applyProfile, profile } from '../../src/config/distribution.js';
import { parseConfig } from '../../src/config/sysconfig.js';
import { defaultConfig, type GuestsConfig } from '../../src/config/variables.js';
import { isStockConffile } from '../helpers/conffile.js';
import { ORIGINAL_SCRIPT } from '../helpers/original-script.js';

const CONFFILE = '/etc/default/libvirt-guests';

/** skips with the reason, except in CI, where the packages are installed (scripts/real-libvirt/setup.sh) */
function absent(t: TestContext, reason: string): void {
  if (process.env.CI === 'true') throw new Error(`${reason} in CI: install libvirt-daemon-system (scripts/real-libvirt/setup.sh)`);
  t.skip(reason);
}

/** The assignments at the top of a libvirt-guests.sh (before it sources its config), and its lock file. */
function scriptDefaults(script: string): { values: Record<string, string>; lockFile: string } {
  const head = script.slice(0, script.indexOf('test -f'));
  const values: Record<string, string> = {};
  for (const m of head.matchAll(/^([A-Z_]+)="?([^"\n]*)"?$/gm)) values[m[1]!] = m[2]!;
  const lock = /^VAR_SUBSYS_LIBVIRT_GUESTS="\$localstatedir"(\S+)$/m.exec(script);
  const localstatedir = /^localstatedir="([^"]+)"$/m.exec(script);
  return { values, lockFile: `${localstatedir?.[1]}${lock?.[1]}` };
}

test("the Debian profile is the script Debian ships (/usr/lib/libvirt/libvirt-guests.sh, Debian's layout)", (t) => {
  if (!existsSync(ORIGINAL_SCRIPT)) return absent(t, `${ORIGINAL_SCRIPT} (Debian's libvirt-daemon-system) is not here`);
  const shipped = scriptDefaults(readFileSync(ORIGINAL_SCRIPT, 'utf8'));
  const ours = applyProfile({ ...parseConfig('', CONFFILE), source: { file: CONFFILE, origin: 'search' } }, profile('debian', 'test'))
    .config as unknown as Record<keyof GuestsConfig, unknown>;
  assert.ok(Object.keys(shipped.values).length >= 8, `found ${JSON.stringify(shipped.values)}`);
  for (const [name, value] of Object.entries(shipped.values)) {
    const mine = ours[name as keyof GuestsConfig];
    const asText = Array.isArray(mine) ? mine.join(' ') : typeof mine === 'boolean' ? (mine ? '1' : '0') : String(mine);
    assert.equal(asText, value, name);
  }
  assert.equal(shipped.lockFile, profile('debian', 'test').lockFile);
});

test(`Debian's stock ${CONFFILE} parses to the defaults`, (t) => {
  if (spawnSync('sh', ['-c', isStockConffile(CONFFILE)]).status !== 0) return absent(t, `${CONFFILE} is not the stock file of an installed package`);
  const parsed = parseConfig(readFileSync(CONFFILE, 'utf8'), CONFFILE);
  assert.deepEqual(parsed.config, defaultConfig());
  assert.deepEqual(parsed.warnings, []);
});
