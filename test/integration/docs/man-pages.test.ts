// The man pages built by `npm run build` (dist/man): they render with man(1) without a warning, carry the sections
// people look for, and say what the programs themselves say (every command, variable, setting), because they are
// generated from the same data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { GUESTD_CONF_KEYS } from '../../../src/config/guestd-conf.js';
import { VARIABLES } from '../../../src/config/variables.js';
import { COMMANDS } from '../../../src/guestctl/table.js';
import { guestdConfPage } from '../../../scripts/docs/man-pages.js';
import { repoPath } from '../../helpers/repo.js';

const PAGES = ['libvirt-guests.8', 'guestd.8', 'guestd.conf.5', 'guestctl.1'];
const manMissing = spawnSync('man', ['--version']).status === 0 ? null : 'man is not installed (package man-db)';
if (manMissing && process.env.CI === 'true') throw new Error(`${manMissing} in CI`);

/** the page as man shows it, and what groff warned about (lintian's way of looking) */
function render(page: string): { text: string; warnings: string } {
  const r = spawnSync('man', ['--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z', repoPath('dist', 'man', page)], {
    env: { ...process.env, LC_ALL: 'C.UTF-8', MANROFFSEQ: '', MANWIDTH: '80' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const text = execFileSync('man', ['-l', repoPath('dist', 'man', page)], { env: { ...process.env, MANWIDTH: '200', MAN_KEEP_FORMATTING: '' }, encoding: 'utf8' });
  return { text: text.replace(/.\x08/g, ''), warnings: r.stderr }; // eslint-disable-line no-control-regex
}

test('every page renders with man -l without a warning and has the usual sections', { skip: manMissing ?? false }, () => {
  for (const page of PAGES) {
    const { text, warnings } = render(page);
    assert.equal(warnings, '', `${page}: ${warnings}`);
    // a file format has no exit status
    const sections = ['NAME', 'SYNOPSIS', 'DESCRIPTION', ...(page.endsWith('.5') ? [] : ['EXIT STATUS']), 'ENVIRONMENT', 'FILES', 'EXAMPLES', 'SEE ALSO'];
    for (const s of sections) assert.match(text, new RegExp(`^${s}$`, 'm'), `${page} has ${s}`);
  }
});

test('the pages say what the programs say: commands, variables, settings, options', { skip: manMissing ?? false }, () => {
  const guests = render('libvirt-guests.8').text;
  const manifest = JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as { commands: Record<string, { summary: string }> };
  for (const [id, c] of Object.entries(manifest.commands)) {
    assert.match(guests, new RegExp(`^ {7}${id.replaceAll(":", " ")}\\b`, "m"), `command ${id}`); // a topic and its command as typed
    assert.ok(guests.replace(/\s+/g, ' ').includes(c.summary.replace(/\s+/g, ' ')), `summary of ${id}`);
  }
  for (const v of VARIABLES) assert.match(guests, new RegExp(`^ {7}${v.name}=`, 'm'), v.name);
  assert.match(guests.replace(/\s+/g, ' '), /Default: start \(upstream\), ignore \(Debian\)/);
  assert.match(guests, /\/var\/lock\/libvirt-guests/);
  const conf = render('guestd.conf.5').text;
  for (const key of GUESTD_CONF_KEYS) assert.match(conf, new RegExp(`^ {7}${key} = `, 'm'), key);
  const ctl = render('guestctl.1').text;
  for (const { name } of COMMANDS) assert.match(ctl, new RegExp(`^ {7}${name}\\b`, 'm'), name);
  const daemon = render('guestd.8').text;
  for (const option of ['--help', '--verbose', '--daemon', '--listen', '--timeout', '--config', '--pid-file', '--version']) assert.match(daemon, new RegExp(`^ {7}(-\\w, )?${option}\\b`, 'm'), option);
});

test('a setting the shipped guestd.conf does not document stops the build', () => {
  const text = readFileSync(repoPath('sysconfig', 'guestd.conf'), 'utf8').replace(/^#log_level = .*$/m, '');
  assert.throws(() => guestdConfPage({ version: '0', commands: [], guestsConfig: '', guestdConfig: text }), /does not document log_level/);
});
