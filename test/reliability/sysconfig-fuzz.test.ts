// Fuzzed libvirt-guests configuration files: random bytes, shell-flavoured noise, mutations of real files, command
// substitutions, NUL, byte order marks and 10 MB lines.
// - In process, for volume: the parser returns a valid configuration or a ConfigError (exit 6) naming the file and
//   line, short and printable; nothing else, ever.
// - Against bash, for what the parser accepts: sourced by a restricted bash with no PATH, whose every attempt to run
//   a command is caught, the file must run nothing and give every libvirt-guests variable the value we read.
// - Through the real CLI, for a sample: `reload` exits 0 or 6 and `status` 3 or 6, agreeing with the parser, with a
//   message and no stack trace; canaries (`touch CANARY` relative and absolute) prove nothing was executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseShellAssignments } from '../../src/config/shell-assignments.js';
import { parseConfig } from '../../src/config/sysconfig.js';
import { VARIABLES } from '../../src/config/variables.js';
import { ConfigError } from '../../src/errors.js';
import { runGuests } from '../helpers/cli.js';
import { log, random, report, trials, type Random } from '../helpers/reliability.js';
import { repoPath } from '../helpers/repo.js';

const SUITE = 'sysconfig-fuzz';
const FILE = '/etc/default/libvirt-guests';
const BIG = 10 * 1024 * 1024;
const work = mkdtempSync(path.join(tmpdir(), 'sysconfig-fuzz-'));
const CANARY = path.join(work, 'CANARY');

const PAYLOADS = [
  '$(touch CANARY)',
  '`touch CANARY`',
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  '"$(touch CANARY)"',
  "'$(touch CANARY)'",
  '${HOME}',
  '$HOME',
  '\\',
  '\\\n',
  '\u0000',
  '\uFEFF',
  '\r',
  ';touch CANARY',
  '|touch CANARY',
  '&& touch CANARY',
  '~',
  '#',
  "'",
  '"',
  ' ',
  '\t',
  '\n',
  '=',
  'export ',
];

const corpus = [
  ...['debian-stock', 'fedora-stock', 'debian-enabled'].map((f) => readFileSync(repoPath('test/fixtures/sysconfig', f), 'utf8')),
  readFileSync(repoPath('sysconfig/libvirt-guests'), 'utf8'),
  [
    "URIS='qemu:///system lxc:///system'",
    'export ON_BOOT=start',
    `ON_SHUTDOWN="shut"'down'`,
    'START_DELAY=5 PARALLEL_SHUTDOWN=2',
    "URIS='qemu:///system\n  guest:///system'",
    'SHUTDOWN_TIMEOUT=""',
    'export SYNC_TIME',
    'BYPASS_CACHE=-1 # comment',
    "PERSISTENT_ONLY='true'",
  ].join('\n'),
];

/** characters that mean something to a shell or to the scanner, weighted over plain ones */
const NOISE = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ_abc019=''\"\"$$``\\\\#;|&<>()~{}*?! \t\n\r\u0000\uFEFFé"];

const generators: Record<string, (r: Random) => string> = {
  bytes: (r) => r.bytes(r.int(0, 400)).toString('utf8'),
  noise: (r) => Array.from({ length: r.int(0, 200) }, () => r.pick(NOISE)).join(''),
  mutant: (r) => {
    let text = r.pick(corpus);
    for (let n = r.int(1, 4); n > 0; n--) {
      const at = r.int(0, text.length);
      switch (r.int(0, 4)) {
        case 0:
          text = text.slice(0, at) + r.pick(PAYLOADS) + text.slice(at);
          break;
        case 1:
          text = text.slice(0, at) + text.slice(Math.min(text.length, at + r.int(1, 20)));
          break;
        case 2:
          text = text.slice(0, at) + r.pick(NOISE) + text.slice(at);
          break;
        case 3:
          text = text.slice(0, at);
          break;
        default: {
          const lines = text.split('\n');
          lines.splice(r.int(0, lines.length), 0, lines[r.int(0, lines.length - 1)]!);
          text = lines.join('\n');
        }
      }
    }
    return text;
  },
  payload: (r) => {
    const name = r.pick(VARIABLES).name;
    const p = r.pick(PAYLOADS);
    return r.pick([`${name}=${p}`, `${name}="${p}"`, `${name}='${p}'`, `export ${name}=${p}`, `${name}=a${p}b`, p]);
  },
};

/** the 10 MB lines, a few of which every run feeds */
const HUGE: [string, () => string][] = [
  ['quoted 10 MB value', () => `URIS='${'q'.repeat(BIG)}'`],
  ['10 MB comment', () => `# ${'c'.repeat(BIG)}\nON_BOOT=ignore\n`],
  ['10 MB unquoted value', () => `ON_BOOT=${'v'.repeat(BIG)}`],
  ['10 MB name', () => `${'N'.repeat(BIG)}=1`],
  ['10 MB of $(', () => 'URIS='.concat('$('.repeat(BIG / 2))],
  ['10 MB without a newline, BOM first', () => `\uFEFF${'x'.repeat(BIG)}`],
];

type Verdict = { ok: true; names: string[] } | { ok: false; message: string };

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/; // eslint-disable-line no-control-regex

function verdict(text: string): Verdict {
  try {
    parseConfig(text, FILE);
    return { ok: true, names: [...scannerValues(text).keys()] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(err)}`, { cause: err });
    assert.equal(err.exit, 6);
    assert.ok(err.message.startsWith(`${FILE}:`), `names the file: ${err.message.slice(0, 200)}`);
    assert.ok(err.message.length < 600, `a short message (${err.message.length} characters)`);
    assert.ok(!CONTROL.test(err.message) && !CONTROL.test(err.hint ?? ''), `printable: ${JSON.stringify(err.message.slice(0, 200))}`);
    return { ok: false, message: err.message };
  }
}

/** what the command_not_found_handle leaves in bash's output (no value we accept has a control character) */
const EXECUTED = '\u0001EXECUTED\u0001';
const EXECUTED_PRINTF = '\\001EXECUTED\\001';
const KNOWN = new Set(VARIABLES.map((v) => v.name as string));

/**
 * Sources `text` in a restricted bash with no PATH: any command it tries to run calls command_not_found_handle,
 * which leaves a marker. Returns what bash assigned to each libvirt-guests variable, or that it ran something.
 */
function bashReads(text: string): { executed: boolean; values: Map<string, string> } {
  const dir = mkdtempSync(path.join(work, 'bash-'));
  writeFileSync(path.join(dir, 'conf'), text);
  const names = [...KNOWN].join(' ');
  const script =
    `command_not_found_handle() { printf '${EXECUTED_PRINTF}'; return 127; }; shopt -u sourcepath; . conf; printf 'END\\0'; ` +
    `for n in ${names}; do if [[ -v $n ]]; then printf '%s=%s\\0' "$n" "\${!n}"; fi; done`;
  let out: string;
  try {
    out = execFileSync('/bin/bash', ['--norc', '--noprofile', '-r', '-c', script], { cwd: dir, env: { PATH: '/nonexistent' }, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const [before, after = ''] = out.split('END\0');
  const values = new Map(after.split('\0').filter((p) => p !== '').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as [string, string]));
  return { executed: out.includes(EXECUTED) || (before ?? '').length > 0, values };
}

/** the text each variable is assigned, as the parser reads it (the last assignment wins) */
function scannerValues(text: string): Map<string, string> {
  return new Map(parseShellAssignments(text, FILE).map((a) => [a.name, a.value]));
}

test('fuzzed configuration files: exit 0 or 6 with a clear message, never run, read as a shell would', { timeout: 1_800_000 }, async () => {
  const rnd = random(SUITE);
  const samples = trials(3000, 100_000);
  const cliSamples = trials(8, 100);
  const bashSamples = trials(150, 3000);
  const tally = { accepted: 0, refused: 0, bash: 0, cli: 0, huge: 0 };
  let slowestMs = 0;
  const forCli: { kind: string; text: string }[] = [];
  // the oracle can tell: a command substitution runs, and a value is read as bash reads it
  assert.equal(bashReads('URIS=$(touch CANARY)').executed, true);
  assert.equal(bashReads(`ON_SHUTDOWN="shut"'down'`).values.get('ON_SHUTDOWN'), 'shutdown');
  try {
    for (let i = 0; i < samples; i++) {
      const kind = rnd.pick(Object.keys(generators));
      const text = generators[kind]!(rnd);
      const began = performance.now();
      let v: Verdict;
      try {
        v = verdict(text);
      } catch (err) {
        log(SUITE, `sample ${i} (${kind}) broke the parser: ${JSON.stringify(text.slice(0, 300))}`);
        throw err;
      }
      slowestMs = Math.max(slowestMs, performance.now() - began);
      tally[v.ok ? 'accepted' : 'refused']++;
      if (v.ok && tally.bash < bashSamples && !text.includes('\r') && !text.includes('\u0000') && v.names.every((n) => KNOWN.has(n))) {
        tally.bash++;
        const bash = bashReads(text.replace(/^\uFEFF/, ''));
        assert.equal(bash.executed, false, `bash ran a command from an accepted file: ${JSON.stringify(text)}`);
        for (const [name, value] of scannerValues(text)) {
          assert.equal(bash.values.get(name), value, `${name} differs from bash's for ${JSON.stringify(text)}`);
        }
      }
      if (forCli.length < cliSamples && (i % Math.max(1, Math.floor(samples / cliSamples)) === 0 || /CANARY/.test(text))) forCli.push({ kind, text });
    }
    for (const [what, make] of HUGE.slice(0, trials(2, HUGE.length))) {
      const text = make();
      const began = performance.now();
      const v = verdict(text);
      slowestMs = Math.max(slowestMs, performance.now() - began);
      tally.huge++;
      log(SUITE, `${what}: ${v.ok ? 'accepted' : v.message.slice(0, 120)}`);
      forCli.push({ kind: what, text });
    }

    const config = path.join(work, 'libvirt-guests.conf');
    const env = { LIBVIRT_GUESTS_CONFIG: config, LIBVIRT_GUESTS_LIST_FILE: path.join(work, 'list'), LIBVIRT_GUESTS_LOCK_FILE: path.join(work, 'lock') };
    for (const { kind, text } of forCli) {
      writeFileSync(config, text);
      const expected = verdict(text);
      const [reload, status] = await Promise.all([runGuests(['reload'], env, work), runGuests(['status'], env, work)]);
      const what = `${kind} ${JSON.stringify(text.slice(0, 120))}`;
      assert.equal(reload.exitCode, expected.ok ? 0 : 6, `reload: ${what}\n${reload.stderr.slice(0, 500)}`);
      assert.equal(status.exitCode, expected.ok ? 3 : 4, `status: ${what}\n${status.stderr.slice(0, 500)}`);
      for (const run of expected.ok ? [] : [reload, status]) {
        assert.match(run.stderr, /^error: \S+/, what);
        assert.ok(run.stderr.includes(config), `names the file: ${what}`);
        assert.doesNotMatch(run.stderr, /\n\s+at /, `no stack trace: ${what}`);
        assert.ok(run.stderr.length < 2000, `a short message: ${what}`);
      }
      tally.cli++;
    }
    assert.equal(existsSync(CANARY), false, 'a canary was created: something was executed');
    assert.equal(existsSync(path.join(repoPath(), 'CANARY')), false, 'a canary was created: something was executed');
  } finally {
    report(SUITE, { samples: tally.accepted + tally.refused, ...tally, slowest_parse_ms: Math.round(slowestMs), canary: existsSync(CANARY) ? 'CREATED' : 'absent' });
    rmSync(work, { recursive: true, force: true });
  }
});
