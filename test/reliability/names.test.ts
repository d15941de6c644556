// Domain names become file names (<state>/domains/<name>.xml, save images, logs): through the RPC, a name with `/`,
// one that is or begins with `.`/`..`, one with a control character (raw or as a character reference, C0, DEL or
// C1), an empty or overlong one must be refused with libvirt's XML error saying what is wrong — and nothing may be
// written outside the state directory. Every other name is accepted exactly as written, and its files are where
// they belong. A fixed corpus, then random names drawn from an alphabet full of the dangerous characters.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { openConnectionDetailed } from '../../src/connect/index.js';
import { MAX_NAME_BYTES } from '../../src/driver/process/xml/domain.js';
import { createRemoteAdmin } from '../../src/guestctl/remote-admin.js';
import { isVirError, VirErr } from '../../src/libvirt/error.js';
import { cleanupAllGuestd, startGuestd } from '../helpers/guestd.js';
import { log, random, report, trials } from '../helpers/reliability.js';

const SUITE = 'names';

after(cleanupAllGuestd);

/** the rule, restated independently of the code under test */
function acceptable(name: string): boolean {
  return (
    name.length > 0 &&
    !name.includes('/') &&
    !name.startsWith('.') &&
    !/\p{Cc}/u.test(name) &&
    Buffer.byteLength(name) <= MAX_NAME_BYTES
  );
}

/** the name as XML text: markup characters escaped; control characters as references or raw, as drawn */
function xmlText(name: string, raw: (c: string) => boolean): string {
  return [...name]
    .map((c) => {
      if (c === '&') return '&amp;';
      if (c === '<') return '&lt;';
      if (c === '>') return '&gt;';
      if (/\p{Cc}/u.test(c) && !raw(c)) return `&#${c.codePointAt(0)};`;
      return c;
    })
    .join('');
}

const domainXml = (nameText: string): string =>
  `<domain type='process'><name>${nameText}</name><memory unit='MiB'>1</memory></domain>`;

const CONTROLS = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\u007f', '\u0085', '\u009b'];
const CORPUS = [
  '.',
  '..',
  '...',
  '.hidden',
  '../escape',
  '../../../../tmp/escape',
  '/abs',
  'a/b',
  'a/../../b',
  './x',
  'x/.',
  ...CONTROLS.filter((c) => c !== '\u0000').map((c) => `ctl${c}x`),
  'n'.repeat(MAX_NAME_BYTES + 1),
  'ü'.repeat(MAX_NAME_BYTES / 2 + 1),
  'n'.repeat(1 << 20),
  // acceptable ones, which must land exactly where they belong
  'a..b',
  'web-1',
  '-dash',
  'with space',
  `quote'"`,
  'back\\slash',
  '<&>',
  '日本',
  'n'.repeat(MAX_NAME_BYTES),
  'ü'.repeat(MAX_NAME_BYTES / 2),
];
const SAFE = ['a', 'b', 'z', '0', '-', '_', '.', '\\', ' ', 'ü', '日', '&', '<', "'"];
const DANGEROUS = ['/', '/', '..', ...CONTROLS.filter((c) => c !== '\u0000')];

/** every file below `dir` */
function files(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

test('names through the RPC: path and control characters refused with an XML error, nothing written outside the state dir', { timeout: 3_600_000 }, async () => {
  const rnd = random(SUITE);
  const count = trials(300, 5000);
  const gd = await startGuestd();
  const configDir = path.join(gd.stateDir, 'domains');
  const { connection: conn, remote } = await openConnectionDetailed(gd.uri);
  assert.ok(remote, 'a native connection comes with its REMOTE client');
  const admin = createRemoteAdmin(remote);
  const outsideBefore = new Set(readdirSync(tmpdir()));
  const filesBefore = new Set(files(gd.dir));

  const figures = { names: 0, refused: 0, accepted: 0, losses: 0 };
  const losses: string[] = [];
  const attempt = async (name: string, xml: string, how: 'define' | 'create'): Promise<void> => {
    figures.names++;
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…(${name.length})` : name);
    try {
      const ref = how === 'define' ? await admin.defineXML(xml) : await admin.createXML(xml);
      if (!acceptable(name)) {
        losses.push(`${how} ${shown}: accepted as '${ref.name}'; it must be refused`);
        return;
      }
      if (ref.name !== name) losses.push(`${how} ${shown}: defined as ${JSON.stringify(ref.name)}, not as written`);
      if (how === 'define' && !statSync(path.join(configDir, `${name}.xml`)).isFile())
        losses.push(`${how} ${shown}: its config is not at ${configDir}/<name>.xml`);
      if (how === 'create') await conn.destroy(ref);
      else await admin.undefine(ref);
      figures.accepted++;
    } catch (err) {
      if (acceptable(name)) losses.push(`${how} ${shown}: refused (${(err as Error).message}); it is a valid name`);
      else if (!isVirError(err, VirErr.XML_ERROR) || !/^XML error: /.test(err.message))
        losses.push(`${how} ${shown}: refused, but not with libvirt's XML error: ${String(err)}`);
      else figures.refused++;
    }
  };

  for (const name of CORPUS) {
    await attempt(name, domainXml(xmlText(name, () => false)), 'define');
    await attempt(name, domainXml(xmlText(name, () => true)), 'create');
  }
  for (let i = 0; i < count; i++) {
    const length = rnd.pick([1, 2, 3, 8, 40, 120, 199, 200, 201, 260]);
    const chars = Array.from({ length }, () => rnd.pick(SAFE));
    // most names carry one or two dangerous pieces somewhere
    if (rnd.next() < 0.7) for (let k = rnd.int(1, 2); k > 0; k--) chars.splice(rnd.int(0, chars.length), 0, rnd.pick(DANGEROUS));
    const name = chars.join('').replace(/^\s+|\s+$/gu, 'x'); // the parser trims white space around the name
    await attempt(name, domainXml(xmlText(name, () => rnd.next() < 0.5)), rnd.next() < 0.8 ? 'define' : 'create');
  }
  // lookups by such names find nothing and harm nothing
  for (const name of ['..', '../escape', '/abs', 'a/b', 'ctl\u0007x']) {
    await assert.rejects(conn.lookup(name), (err: unknown) => isVirError(err, VirErr.NO_DOMAIN));
  }
  await conn.close();

  const outsideNew = readdirSync(tmpdir()).filter((f) => !outsideBefore.has(f) && /escape|abs|ctl/.test(f));
  if (outsideNew.length > 0) losses.push(`written outside the state dir: ${outsideNew.join(', ')}`);
  for (const f of files(gd.dir)) {
    if (filesBefore.has(f)) continue;
    const inState = f.startsWith(`${gd.stateDir}${path.sep}`) && path.dirname(path.dirname(f)) === gd.stateDir;
    if (!inState) losses.push(`a file appeared outside the state dir's own folders: ${f}`);
  }
  if (existsSync(path.join(gd.stateDir, '..', 'escape.xml'))) losses.push('escape.xml next to the state dir');
  log(SUITE, `${figures.names} names tried: ${figures.refused} refused, ${figures.accepted} accepted`);
  figures.losses = losses.length;
  report(SUITE, figures);
  assert.deepEqual(losses.slice(0, 20), []);
});
