// Libvirt clients nobody here wrote, against a real guestd: Python's bindings (python3-libvirt) and Ansible's
// community.libvirt.virt module (the ansible package), both Debian's. Each runs a fixture of test/fixtures/clients
// that asserts libvirt's semantics itself; this test runs it and shows its lines when it fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanupAllGuestd, startGuestd, type GuestdInstance } from '../../helpers/guestd.js';
import { makePki, startTlsGuestd } from '../../helpers/pki.js';
import { REPO_ROOT } from '../../helpers/repo.js';
import { guestXml, runProgram } from '../../helpers/virsh.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'clients');
/** Debian's python, where python3-libvirt and ansible live (not a python of the user's PATH, e.g. pyenv's) */
const PYTHON = '/usr/bin/python3';

function missing(probe: string[], what: string): string | null {
  try {
    execFileSync(probe[0]!, probe.slice(1), { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    return null;
  } catch {
    return `${what} is not installed (bash scripts/test-setup.sh installs it)`;
  }
}
const noPython = missing([PYTHON, '-c', 'import libvirt'], 'python3-libvirt');
const noAnsible = missing(['ansible-doc', 'community.libvirt.virt'], "ansible with community.libvirt");
for (const why of [noPython, noAnsible]) {
  if (why && process.env.CI === 'true') throw new Error(`prerequisite missing in CI: ${why}`);
  if (why) console.log(`# skipped: ${why}`);
}

describe('real libvirt clients against guestd', () => {
  let gd: GuestdInstance;
  const name = (what: string): string => `${what}-${process.pid}`;
  const xmlFile = (guest: string): string => {
    const file = path.join(gd.dir, `${guest}.xml`);
    writeFileSync(file, guestXml(guest, { 'shutdown-seconds': 0 }, 4));
    return file;
  };
  before(async () => {
    gd = await startGuestd();
  });
  after(cleanupAllGuestd);

  it("Python's bindings: connect-time and dashboard calls, suspend/resume/reboot/reset, errors and events", { skip: noPython ?? false }, async () => {
    const guest = name('py');
    const r = await runProgram(PYTHON, [path.join(FIXTURES, 'libvirt-python.py'), gd.uri, xmlFile(guest), guest], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /all checks passed/);
  });

  it("Python's bindings over TLS: the connection is secure and encrypted (over the unix socket: secure only)", { skip: noPython ?? false }, async () => {
    const pki = makePki({ admin: { subject: '/C=GB/O=Example/CN=admin' } });
    try {
      const { port } = await startTlsGuestd(pki);
      const probe = 'import libvirt, sys\nc = libvirt.open(sys.argv[1])\nprint(c.isSecure(), c.isEncrypted())';
      const tls = await runProgram(PYTHON, ['-c', probe, `guest+tls://127.0.0.1:${port}/system?pkipath=${pki.pkipath('admin')}`]);
      assert.equal(tls.code, 0, tls.stderr);
      assert.equal(tls.stdout.trim(), '1 1');
      const unix = await runProgram(PYTHON, ['-c', probe, gd.uri]);
      assert.equal(unix.stdout.trim(), '1 0', unix.stderr);
    } finally {
      pki.remove();
    }
  });

  it("Ansible's community.libvirt.virt: define, running, paused, running, get_xml, info, destroyed, undefine", { skip: noAnsible ?? false }, async () => {
    const guest = name('ansible');
    const vars = path.join(gd.dir, 'ansible-vars.json');
    writeFileSync(vars, JSON.stringify({ guestd_uri: gd.uri, guest_name: guest, guest_xml: guestXml(guest, { 'shutdown-seconds': 0 }, 4) }));
    const r = await runProgram(
      'ansible-playbook',
      ['-i', 'localhost,', '-c', 'local', '-e', `@${vars}`, path.join(FIXTURES, 'ansible-virt.yml')],
      {
        timeoutMs: 300_000,
        // ansible refuses a locale that is not UTF-8; its temporary files go under the test's directory
        env: { LC_ALL: 'C.UTF-8', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_HOME: path.join(gd.dir, 'ansible') },
      },
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
  });
});
