// Who may do what to a real guestd:
// - every procedure that changes anything (the procedure table's write class, from libvirt's @acl annotations) is
//   refused with libvirt's operation-denied error on the read-only socket and on a read-only connection, whatever
//   its arguments (random bodies), before CONNECT_OPEN and after, and nothing changes;
// - another local user reaches only the read-only socket, and may not change anything there;
// - the socket and state files are open to others only where they must be (the read-only socket, its directory),
//   with unix_sock_group and the permissions from guestd.conf;
// - TLS: no client certificate, one from a foreign CA, a self-signed one, one whose DN is not in
//   tls_allowed_dn_list: all refused before any RPC (no confirmation byte), by real virsh and by our client.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openConnection } from '../../src/connect/index.js';
import { VirErr } from '../../src/libvirt/error.js';
import { PROCEDURES } from '../../src/remote/procedures.js';
import { ConnectFlags } from '../../src/remote/enums.js';
import { PROC } from '../../src/remote/protocol.js';
import { RpcError } from '../../src/rpc/errors.js';
import { decode, encode } from '../../src/rpc/xdr-types.js';
import { cleanupAllGuestd, programArgs, startGuestd, type GuestdInstance } from '../helpers/guestd.js';
import { makePki, startTlsGuestd, tlsVerdict, type Pki } from '../helpers/pki.js';
import { errorOf, RawClient } from '../helpers/raw-rpc.js';
import { log, random, report, trials } from '../helpers/reliability.js';
import { guestctl, guestXml, runProgram, virsh } from '../helpers/virsh.js';

const SUITE = 'security';
const OTHER_USER = 'nobody';
const inCi = process.env.CI === 'true';
const figures = { mutatingProcedures: 0, refusals: 0, modeChecks: 0, tlsRefusals: 0, localUserChecks: 0, losses: 0 };

function userMissing(): string | null {
  if (process.getuid?.() !== 0) return 'acting as another user needs root';
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'pipe' });
    execFileSync('id', ['-u', OTHER_USER], { stdio: 'pipe' });
  } catch {
    return `setpriv or the user '${OTHER_USER}' is missing`;
  }
  return null;
}

/** every path below `dir`, with its mode */
function walk(dir: string): { path: string; mode: number }[] {
  const out = [{ path: dir, mode: statSync(dir).mode & 0o7777 }];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else out.push({ path: p, mode: statSync(p).mode & 0o7777 });
  }
  return out;
}

describe('security', () => {
  let gd: GuestdInstance;
  let pki: Pki;
  let port: number;
  const losses: string[] = [];

  before(async () => {
    pki = makePki({
      admin: { subject: '/C=GB/O=Example/CN=admin' },
      intruder: { subject: '/C=GB/O=Example/CN=intruder' },
      stranger: { subject: '/C=GB/O=Example/CN=admin', issuer: 'otherca' },
      selfsigned: { subject: '/C=GB/O=Example/CN=admin', issuer: 'self' },
    });
    ({ gd, port } = await startTlsGuestd(pki, { allowedDns: ['C=GB,O=Example,CN=admin'] }));
    for (const name of ['victim', 'idle']) {
      const file = path.join(gd.dir, `${name}.xml`);
      writeFileSync(file, guestXml(name, {}, 2));
      assert.equal((await guestctl(gd.uri, 'define', file)).code, 0);
    }
    assert.equal((await guestctl(gd.uri, 'start', 'victim')).code, 0);
  });
  after(async () => {
    figures.losses = losses.length;
    report(SUITE, figures);
    await cleanupAllGuestd();
    pki.remove();
  });

  const domains = async (): Promise<string> => (await virsh(gd.uri, 'list', '--all')).stdout;

  it('every mutating procedure is refused on a read-only connection, whatever its arguments, and nothing changes', async () => {
    const r = random(SUITE);
    const bodies = trials(1, 20);
    const before = await domains();
    const mutating = PROCEDURES.filter((p) => !p.readonly);
    figures.mutatingProcedures = mutating.length;
    const connections: [string, () => Promise<RawClient>][] = [
      ['read-only socket, not yet open', () => RawClient.connect(gd.roSocket)],
      [
        'read-only socket',
        async () => {
          const c = await RawClient.connect(gd.roSocket);
          await c.open();
          return c;
        },
      ],
      [
        'read-write socket, opened read-only',
        async () => {
          const c = await RawClient.connect(gd.rwSocket);
          await c.open(ConnectFlags.RO);
          return c;
        },
      ],
    ];
    for (const [what, connect] of connections) {
      const c = await connect();
      const refusedBefore = figures.refusals;
      try {
        // the victim's real identity as an argument, so that a procedure that slipped through would act on it
        const victim = await c.call(PROC.DOMAIN_LOOKUP_BY_NAME.number, encode(PROC.DOMAIN_LOOKUP_BY_NAME.args, { name: 'victim' }));
        for (const p of mutating) {
          const sample = [Buffer.alloc(0), ...(victim.header.status === 0 ? [victim.body] : [])];
          for (let i = 0; i < bodies; i++) sample.push(r.bytes(r.int(0, 200)));
          for (const body of sample) {
            const reply = await c.call(p.number, body);
            const error = reply.header.status === 1 ? errorOf(reply) : null;
            if (error?.code === VirErr.OPERATION_DENIED && /read only access prevents vir/.test(error.message ?? '')) figures.refusals++;
            else losses.push(`${what}: ${p.name} (${p.number}) was not refused: ${error ? `${error.code} ${error.message}` : 'it succeeded'}`);
          }
        }
        // the connection is still usable, and reads are allowed
        const listed = await c.call(PROC.CONNECT_LIST_ALL_DOMAINS.number, encode(PROC.CONNECT_LIST_ALL_DOMAINS.args, { need_results: 1, flags: 0 }));
        if (what.endsWith('not yet open')) assert.equal(listed.header.status, 1, 'reads need CONNECT_OPEN');
        else assert.equal(decode(PROC.CONNECT_LIST_ALL_DOMAINS.ret, listed.body).ret, 2);
      } finally {
        c.close();
      }
      log(SUITE, `${what}: ${figures.refusals - refusedBefore} calls of ${mutating.length} mutating procedures refused`);
    }
    assert.equal(await domains(), before, 'a refused call changed the domains');
    assert.deepEqual(losses, []);
  });

  it(`another local user (${OTHER_USER}) reaches only the read-only socket, and changes nothing there`, async (t) => {
    const missing = userMissing();
    if (missing && !inCi) {
      t.skip(missing);
      return;
    }
    assert.equal(missing, null, `CI=true, so this must run here: ${missing}`);
    // the test's own directory is private (mkdtemp): open the way to the socket directory, as /run is
    chmodSync(gd.dir, 0o755);
    const [uid, gid] = ['-u', '-g'].map((flag) => execFileSync('id', [flag, OTHER_USER]).toString().trim());
    // a fresh node as that user imports the probe (compiled, or through tsx) and prints what it found
    const programArgsOfProbe = programArgs('test/helpers/local-user-probe.ts');
    const module = pathToFileURL(programArgsOfProbe.at(-1)!).href;
    const script = `const { probe } = await import(${JSON.stringify(module)}); console.log(JSON.stringify(await probe(...process.argv.slice(1))))`;
    const probe = await runProgram('setpriv', [
      '--reuid', uid!, '--regid', gid!, '--clear-groups',
      process.execPath, ...programArgsOfProbe.slice(0, -1), '--input-type=module', '-e', script,
      gd.rwSocket, gd.roSocket, gd.adminSocket, 'victim',
    ]);
    assert.equal(probe.code, 0, probe.stderr);
    const result = JSON.parse(probe.stdout) as Record<string, string | number>;
    log(SUITE, `as ${OTHER_USER}: ${JSON.stringify(result)}`);
    assert.deepEqual(result, { rw: 'EACCES', admin: 'EACCES', ro: 'served', lookup: 'found', destroy: VirErr.OPERATION_DENIED });
    figures.localUserChecks = Object.keys(result).length;
    assert.match((await virsh(gd.uri, 'domstate', 'victim')).stdout, /running/);
  });

  it('only the read-only socket and its directory are open to others; sockets follow unix_sock_group and the perms', async () => {
    // a save image and a guest log exist too
    assert.equal((await guestctl(gd.uri, 'managedsave', 'victim')).code, 0);
    const open: Record<string, number> = { [gd.sockDir]: 0o755, [gd.roSocket]: 0o777 };
    const modes = [...walk(gd.sockDir), ...walk(gd.stateDir)];
    for (const { path: p, mode } of modes) {
      figures.modeChecks++;
      const expected = open[p];
      if (expected !== undefined ? mode !== expected : (mode & 0o077) !== 0) {
        losses.push(`${p} has mode ${mode.toString(8)}, expected ${expected !== undefined ? expected.toString(8) : 'no access for group and others'}`);
      }
    }
    assert.deepEqual(losses, []);
    assert.equal((await guestctl(gd.uri, 'start', 'victim')).code, 0);

    const gid = Number(execFileSync('id', ['-g', OTHER_USER]).toString());
    const grouped = await startGuestd({
      config: `unix_sock_group = "${gid}"\nunix_sock_rw_perms = "0770"\nunix_sock_ro_perms = "0750"\nunix_sock_admin_perms = "0700"`,
    });
    const expect: [string, number, number][] = [
      [grouped.rwSocket, 0o770, gid],
      [grouped.roSocket, 0o750, gid],
      [grouped.adminSocket, 0o700, 0],
    ];
    for (const [socket, mode, group] of expect) {
      figures.modeChecks++;
      const st = statSync(socket);
      assert.equal(st.mode & 0o7777, mode, `${socket} mode`);
      assert.equal(st.gid, group, `${socket} group`);
    }
  });

  it('TLS: no certificate, a foreign CA, a self-signed one, a DN not allowed: refused before any RPC', async () => {
    assert.equal(await tlsVerdict(port, pki, 'admin'), 'confirmed');
    for (const client of [null, 'stranger', 'selfsigned', 'intruder']) {
      const verdict = await tlsVerdict(port, pki, client);
      log(SUITE, `TLS client ${client ?? 'without a certificate'}: ${verdict}`);
      if (!verdict.startsWith('refused')) losses.push(`TLS client ${client ?? 'without a certificate'}: ${verdict}`);
      else figures.tlsRefusals++;
      if (client === null) continue;
      const uri = `guest+tls://127.0.0.1:${port}/system?pkipath=${pki.pkipath(client)}`;
      const v = await virsh(uri, 'list');
      if (v.code === 0) losses.push(`real virsh with ${client}'s certificate was served`);
      else figures.tlsRefusals++;
      const ours = await openConnection(uri, { backend: 'native' }).then(
        async (c) => (await c.close(), 'served'),
        (e: unknown) => (e instanceof RpcError && e.failure === 'connect' ? 'refused' : String(e)),
      );
      if (ours !== 'refused') losses.push(`our client with ${client}'s certificate: ${ours}`);
      else figures.tlsRefusals++;
    }
    assert.deepEqual(losses, []);
  });
});
