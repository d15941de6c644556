// Real virsh against a real guestd with process guests: the commands libvirt-guests.sh and admins use.
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROCEDURES } from '../../../src/remote/procedures.js';
import { cleanupAllGuestd, isAlive, startGuestd, waitFor, type GuestdInstance } from '../../helpers/guestd.js';
import { errorOf, RawClient } from '../../helpers/raw-rpc.js';
import { guestctl, guestXml, virsh } from '../../helpers/virsh.js';

describe('guestd driven by real virsh', () => {
  let gd: GuestdInstance;
  before(async () => {
    gd = await startGuestd();
  });
  after(cleanupAllGuestd);

  const xmlFile = (name: string, behavior: Record<string, string | number> = {}, mib = 4): string => {
    const file = path.join(gd.dir, `${name}.xml`);
    writeFileSync(file, guestXml(name, behavior, mib));
    return file;
  };

  it('creates its sockets with the default modes', () => {
    const mode = (p: string) => statSync(p).mode & 0o777;
    assert.equal(mode(gd.rwSocket), 0o700);
    assert.equal(mode(gd.roSocket), 0o777);
    assert.equal(mode(gd.adminSocket), 0o700);
    assert.ok(statSync(gd.rwSocket).isSocket());
  });

  it('define, start, list, dominfo, domstate, shutdown, destroy, undefine', async () => {
    let r = await virsh(gd.uri, 'define', xmlFile('web1', { 'shutdown-seconds': 0 }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Domain 'web1' defined/);
    r = await virsh(gd.uri, 'list', '--all');
    assert.match(r.stdout, /-\s+web1\s+shut off/);
    r = await virsh(gd.uri, 'start', 'web1');
    assert.equal(r.code, 0, r.stderr);
    r = await virsh(gd.uri, 'list');
    assert.match(r.stdout, /\d+\s+web1\s+running/);
    r = await virsh(gd.uri, 'dominfo', 'web1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /State:\s+running/);
    assert.match(r.stdout, /Max memory:\s+4096 KiB/);
    assert.match(r.stdout, /Persistent:\s+yes/);
    r = await virsh(gd.uri, 'start', 'web1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already active/);
    r = await virsh(gd.uri, 'shutdown', 'web1');
    assert.equal(r.code, 0, r.stderr);
    await waitFor('web1 to shut off', async () => (await virsh(gd.uri, 'domstate', 'web1')).stdout.trim() === 'shut off');
    assert.equal((await virsh(gd.uri, 'start', 'web1')).code, 0);
    r = await virsh(gd.uri, 'destroy', 'web1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await virsh(gd.uri, 'domstate', 'web1')).stdout.trim(), 'shut off');
    r = await virsh(gd.uri, 'undefine', 'web1');
    assert.equal(r.code, 0, r.stderr);
    r = await virsh(gd.uri, 'dominfo', 'web1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /failed to get domain 'web1'/);
  });

  it('managedsave reports progress to concurrent domjobinfo calls and start restores', async () => {
    assert.equal((await virsh(gd.uri, 'define', xmlFile('db1', { 'save-mib-per-second': 4 }, 16))).code, 0);
    assert.equal((await virsh(gd.uri, 'start', 'db1')).code, 0);
    const save = virsh(gd.uri, 'managedsave', 'db1');
    const processed = await waitFor(
      'a Data processed line',
      async () => /Data processed:\s+(\S+ \S+)/.exec((await virsh(gd.uri, 'domjobinfo', 'db1')).stdout)?.[1],
      10_000,
      200,
    );
    assert.ok(processed);
    // other connections keep being served while the save runs
    assert.match((await virsh(gd.uri, 'list', '--all')).stdout, /db1/);
    const saved = await save;
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /Domain 'db1' state saved by libvirt/);
    assert.match((await virsh(gd.uri, 'dominfo', 'db1')).stdout, /Managed save:\s+yes/);
    assert.match((await virsh(gd.uri, 'domjobinfo', 'db1')).stdout, /Job type:\s+None/);
    assert.equal((await virsh(gd.uri, 'start', '--bypass-cache', 'db1')).code, 0);
    assert.match((await virsh(gd.uri, 'dominfo', 'db1')).stdout, /Managed save:\s+no/);
    const t = await virsh(gd.uri, 'domtime', '--sync', 'db1');
    assert.equal(t.code, 0, t.stderr);
    assert.equal((await virsh(gd.uri, 'destroy', 'db1')).code, 0);
    assert.equal((await virsh(gd.uri, 'undefine', 'db1')).code, 0);
  });

  it('guestctl defines, starts, reports and undefines over the same socket', async () => {
    let r = await guestctl(gd.uri, 'define', xmlFile('ctl1'));
    assert.equal(r.code, 0, r.stderr);
    r = await guestctl(gd.uri, 'start', 'ctl1');
    assert.equal(r.code, 0, r.stderr);
    r = await guestctl(gd.uri, 'list', '--all', '--json');
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { name: string; state: string }[];
    assert.equal(list.find((g) => g.name === 'ctl1')?.state, 'running');
    r = await guestctl(gd.uri, 'dominfo', 'ctl1', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { maxMemKiB: number }).maxMemKiB, 4096);
    r = await guestctl(gd.uri, 'autostart', 'ctl1');
    assert.equal(r.code, 0, r.stderr);
    assert.match((await virsh(gd.uri, 'dominfo', 'ctl1')).stdout, /Autostart:\s+enable/);
    r = await guestctl(gd.uri, 'managedsave', 'ctl1');
    assert.equal(r.code, 0, r.stderr);
    assert.match((await guestctl(gd.uri, 'domstate', 'ctl1')).stdout, /shut off/);
    r = await guestctl(gd.uri, 'undefine', '--managed-save', 'ctl1');
    assert.equal(r.code, 0, r.stderr);
    r = await guestctl(gd.uri, 'dominfo', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no domain with matching name 'nope'/);
    assert.equal((await guestctl(gd.uri, 'frobnicate')).code, 2);
  });

  it('refuses every mutating procedure on the read-only socket, before decoding', async () => {
    const c = await RawClient.connect(gd.roSocket);
    try {
      await c.open();
      for (const p of PROCEDURES.filter((x) => !x.readonly)) {
        for (const body of [Buffer.alloc(0), Buffer.from('0123456789abcdef', 'hex')]) {
          const reply = await c.call(p.number, body);
          assert.equal(reply.header.status, 1, `${p.name} must be refused`);
          assert.equal(errorOf(reply).code, 29, `${p.name}`);
        }
      }
    } finally {
      c.close();
    }
    assert.equal((await virsh(gd.roUri, 'list', '--all')).code, 0);
    assert.equal((await virsh(gd.uri, 'define', xmlFile('ro1'))).code, 0);
    const r = await virsh(gd.roUri, 'start', 'ro1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /read only access prevents/);
    assert.match((await virsh(gd.uri, 'domstate', 'ro1')).stdout, /shut off/);
    assert.equal((await virsh(gd.uri, 'undefine', 'ro1')).code, 0);
  });

  it("flags: what a process guest cannot do is refused in libvirt's words, the rest is honoured", async () => {
    assert.equal((await virsh(gd.uri, 'define', xmlFile('fl1', { 'shutdown-seconds': 0 }))).code, 0);
    assert.equal((await virsh(gd.uri, 'start', 'fl1')).code, 0);
    let r = await virsh(gd.uri, 'shutdown', '--mode', 'agent', 'fl1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: unsupported flags \(0x2\) in function processDomainShutdownFlags/);
    r = await virsh(gd.uri, 'domjobinfo', '--completed', 'fl1');
    assert.match(r.stderr, /unsupported flags \(0x1\) in function processDomainGetJobStats/);
    assert.match((await virsh(gd.uri, 'dumpxml', 'fl1')).stdout, /<domain type='process' id='\d+'>/);
    assert.match((await virsh(gd.uri, 'dumpxml', '--inactive', 'fl1')).stdout, /^<domain type='process'>/);
    r = await virsh(gd.roUri, 'dumpxml', '--security-info', 'fl1');
    assert.match(r.stderr, /operation forbidden: virDomainGetXMLDesc with secure flag/);
    assert.equal((await virsh(gd.uri, 'desc', 'fl1', '--config', '--title', 'persisted')).code, 0);
    assert.equal((await virsh(gd.uri, 'desc', 'fl1', '--live', '--title', 'running')).code, 0);
    assert.equal((await virsh(gd.uri, 'desc', 'fl1', '--title')).stdout.trim(), 'running');
    assert.equal((await virsh(gd.uri, 'desc', 'fl1', '--config', '--title')).stdout.trim(), 'persisted');
    assert.equal((await virsh(gd.uri, 'shutdown', '--mode', 'acpi', 'fl1')).code, 0);
    await waitFor('fl1 to shut off', async () => (await virsh(gd.uri, 'domstate', 'fl1')).stdout.trim() === 'shut off');
    assert.equal((await virsh(gd.uri, 'desc', 'fl1', '--title')).stdout.trim(), 'persisted', 'the config outlives the run');
    assert.equal((await virsh(gd.uri, 'start', 'fl1')).code, 0);
    r = await virsh(gd.uri, 'destroy', '--graceful', 'fl1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await virsh(gd.uri, 'undefine', 'fl1')).code, 0);
  });

  it("bad domain XML is the client's error: libvirt's XML error, not an internal one, and not logged as unexpected", async () => {
    const bad = {
      'external entity': `<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>${guestXml('xxe').replace('<name>xxe', '<name>&x;')}`,
      'nesting past the cap': guestXml('deep').replace('</metadata>', `<my:a xmlns:my="urn:x">${'<my:a>'.repeat(150)}${'</my:a>'.repeat(150)}</my:a></metadata>`),
      'control character': guestXml('ctl').replace('<name>ctl', '<name>ctl&#7;'),
      'memory past a buffer': guestXml('huge', {}, 8192),
    };
    for (const [what, xml] of Object.entries(bad)) {
      const file = path.join(gd.dir, 'bad.xml');
      writeFileSync(file, xml);
      const r = await virsh(gd.uri, 'define', file);
      assert.equal(r.code, 1, what);
      assert.match(r.stderr, /XML error: /, what);
      assert.doesNotMatch(r.stderr, /internal error/, what);
    }
    assert.doesNotMatch(gd.stderr(), /unexpectedly/);
    assert.doesNotMatch((await virsh(gd.uri, 'list', '--all', '--name')).stdout, /xxe|deep|ctl|huge/);
  });

  it('leaves no guest behind after destroy', async () => {
    const pids = gd.guestPids();
    await waitFor(`guests ${pids.join(', ')} to end`, () => pids.every((pid) => !isAlive(pid)));
  });
});
