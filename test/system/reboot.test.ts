// The night of a reboot, under a real systemd (PID 1 in a container on an overlay of this machine): the Debian
// package installs beside Debian's libvirt and takes over libvirt-guests.service; QEMU guests run on the
// container's libvirtd and process guests on socket-activated guestd; `systemctl poweroff` saves every guest and
// the journal shows the notifications accepted; the next boot brings every guest back; removing the package gives
// Debian's libvirt-guests.sh back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Container, buildPackage, containerName, systemdPrerequisite } from '../helpers/real-systemd.js';

const missing = await systemdPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`the system tests cannot run in CI: ${missing}`);
if (missing) console.log(`# skipping the reboot system test: ${missing}`);

const QEMU = ['sysq1', 'sysq2'];
const PROCESS = ['sysp1', 'sysp2'];
const ALL = [...QEMU, ...PROCESS];
/** what systemd logs when it does not take a notification, or kills a stop that ran out of time */
const REFUSED = /reception (is disabled|only permitted)|cannot also be the main process|Cannot find unit for notify message|Refusing|Ignoring MAINPID/i;

describe('a host reboot with the package installed', { skip: missing ?? false }, () => {
  const host = new Container(containerName('reboot'));
  let deb: string;
  const uuids: Record<string, string> = {};

  before(async () => {
    deb = await buildPackage();
    await host.boot();
    await host.asHost();
  });
  after(() => host.destroy());

  it("installs beside Debian's libvirt: our unit in libvirt-guests.service's place, guestd socket-activated", async () => {
    await host.ok(`dpkg -i ${deb}`);
    const diversions = await host.ok('dpkg-divert --list libvirt-guests-ts');
    assert.match(diversions, /diversion of \/lib\/systemd\/system\/libvirt-guests\.service to \S+ by libvirt-guests-ts/);
    assert.match(diversions, /diversion of \/usr\/share\/man\/man8\/libvirt-guests\.8\.gz to \S+ by libvirt-guests-ts/);
    const unit = await host.ok('systemctl cat libvirt-guests.service');
    assert.match(unit, /^ExecStop=\/usr\/bin\/libvirt-guests stop$/m);
    assert.match(unit, /^NotifyAccess=exec$/m);
    assert.equal((await host.ok('systemctl is-active guestd.socket libvirt-guests.service')).trim(), 'active\nactive');
    assert.equal((await host.sh('systemctl list-unit-files --no-legend | grep -c libvirt-daemon-system')).stdout.trim(), '0', 'the diverted original is no unit');
    assert.match(await host.ok('zcat "$(man -w libvirt-guests)"'), /libvirt-guests-ts/);
    assert.match(await host.ok('libvirt-guests reload'), /ON_SHUTDOWN=shutdown +Debian default/);
    assert.match(await host.ok("dpkg-query -W -f='${Conffiles}' libvirt-guests-ts"), /\/etc\/guestd\/guestd\.conf/);
    // an edited configuration survives a reinstallation
    await host.ok(`echo 'log_level = 2' >> /etc/guestd/guestd.conf && dpkg -i ${deb}`);
    assert.match(await host.ok('tail -1 /etc/guestd/guestd.conf'), /^log_level = 2$/m);
  });

  it('runs QEMU guests on the container\'s libvirtd and process guests on guestd', async () => {
    await host.qemuReady();
    await host.qemuGuest('acpi', 'sysq1', 128, 32);
    await host.qemuGuest('stuck', 'sysq2', 64);
    // sysp1 saves 64 MiB at 8 MiB/s: 8 s, longer than the stop timeout set below
    await host.processGuest('sysp1', { 'save-mib-per-second': 8 }, 64);
    await host.processGuest('sysp2', {}, 16);
    assert.equal((await host.ok('systemctl is-active guestd.service')).trim(), 'active', 'started by its socket');
    for (const name of QEMU) uuids[name] = (await host.ok(`virsh -q -c qemu:///system domuuid ${name}`)).trim();
    for (const name of PROCESS) uuids[name] = (await host.ok(`guestctl -c guest:///system dominfo --json ${name} | grep '"uuid"' | cut -d'"' -f4`)).trim();
    await host.ok(`cat > /etc/default/libvirt-guests <<'EOF'
URIS="qemu:///system guest:///system"
ON_BOOT=start
ON_SHUTDOWN=suspend
EOF`);
    // a stop timeout far shorter than the stop: only the EXTEND_TIMEOUT_USEC= keep-alive lets it finish
    await host.ok("mkdir -p /etc/systemd/system/libvirt-guests.service.d && printf '[Service]\\nTimeoutStopSec=3s\\n' > /etc/systemd/system/libvirt-guests.service.d/test-timeout.conf && systemctl daemon-reload");
    assert.match(await host.ok('systemctl show -p TimeoutStopUSec libvirt-guests.service'), /TimeoutStopUSec=3s/);
    await host.ok('systemd-analyze log-level debug'); // notifications are logged at debug level
  });

  it('`systemctl poweroff` saves every guest before the daemons stop; the journal shows the notifications taken', async () => {
    const off = await host.poweroff(300);
    assert.equal(off.exitCode, 0, off.stdout);
    const list = host.file('/var/lib/libvirt/libvirt-guests') ?? '';
    assert.deepEqual(
      list.trim().split('\n').map((l) => l.split(' ')).map(([uri, ...ids]) => [uri, ids.sort()]).sort(),
      [
        ['guest:///system', PROCESS.map((n) => uuids[n]).sort()],
        ['qemu:///system', QEMU.map((n) => uuids[n]).sort()],
      ],
      'the list file',
    );
    for (const name of QEMU) assert.ok(host.exists(`/var/lib/libvirt/qemu/save/${name}.save`), `${name}'s save image`);
    for (const name of PROCESS) assert.ok(host.exists(`/var/lib/guestd/save/${name}.save`), `${name}'s save image`);

    const journal = await host.lastBootJournal();
    const stopPid = /libvirt-guests\[(\d+)\]: Running guests on qemu:\/\/\/system URI/.exec(journal)?.[1];
    assert.ok(stopPid, 'our stop logged its lines');
    for (const name of ALL) assert.match(journal, new RegExp(`libvirt-guests\\[${stopPid}\\]: Suspending ${name}: done`));
    assert.match(journal, new RegExp(`libvirt-guests\\[${stopPid}\\]: stop: 4 suspended`));
    assert.match(journal, new RegExp(`libvirt-guests\\.service: Got notification message from PID ${stopPid} \\(EXTEND_TIMEOUT_USEC=30000000\\)`));
    assert.match(journal, new RegExp(`libvirt-guests\\.service: Got notification message from PID ${stopPid} \\(STATUS=Suspending guests: 4 of 4 done\\)`));
    assert.doesNotMatch(journal, REFUSED);
    assert.doesNotMatch(journal, /ordering cycle/i, 'the ordering after the daemons adds no cycle');
    assert.doesNotMatch(journal, /libvirt-guests\.service: (State 'stop\S*' timed out|Stopping timed out)/);
    assert.doesNotMatch(journal, /Lost the connection/);
    assert.match(journal, /libvirt-guests\.service: Deactivated successfully/);
    // the stop outlasted its 3 s timeout (the keep-alive at work), and the daemons were stopped only after it
    const at = (re: RegExp): number => Number(re.exec(journal)?.[1] ?? NaN);
    const began = at(/\[\s*([\d.]+)\] \S+ systemd\[1\]: Stopping libvirt-guests\.service/);
    const ended = at(/\[\s*([\d.]+)\] \S+ systemd\[1\]: libvirt-guests\.service: Deactivated successfully/);
    assert.ok(ended - began > 3, `the stop took ${ended - began} s: it does not show the keep-alive`);
    const lines = journal.split('\n');
    const ourEnd = lines.findIndex((l) => /libvirt-guests\.service: Deactivated successfully/.test(l));
    for (const daemon of ['libvirtd.service', 'guestd.service']) {
      const stopped = lines.findLastIndex((l) => l.includes(`Stopped ${daemon}`));
      assert.ok(stopped > ourEnd, `${daemon} stopped after libvirt-guests.service`);
    }
  });

  it('the next boot brings every guest back, restored from its image', async () => {
    await host.boot();
    const started = await host.ok('journalctl -b 0 -u libvirt-guests.service --no-pager');
    for (const name of ALL) assert.match(started, new RegExp(`Resuming guest ${name}: done`));
    assert.match(started, /start: 4 resumed/);
    for (const name of QEMU) assert.equal((await host.ok(`virsh -q -c qemu:///system domstate --reason ${name}`)).trim(), 'running (restored)', name);
    for (const name of PROCESS) assert.equal((await host.ok(`guestctl -c guest:///system domstate --reason ${name}`)).trim(), 'running (restored)', name);
    assert.equal(host.exists('/var/lib/libvirt/libvirt-guests'), false, 'the list file is gone');
    assert.equal((await host.sh('test -f /var/lock/libvirt-guests')).exitCode, 0, "the service lock, where Debian's script keeps it");
  });

  it("removing the package gives Debian's libvirt-guests.sh back; purging removes the configuration", async () => {
    await host.ok('dpkg -r libvirt-guests-ts');
    assert.equal((await host.ok('dpkg-divert --list libvirt-guests-ts')).trim(), '');
    assert.match(await host.ok('systemctl show -p ExecStop libvirt-guests.service'), /\/usr\/lib\/libvirt\/libvirt-guests\.sh/);
    assert.deepEqual(host.file('/lib/systemd/system/libvirt-guests.service'), readFileSync('/lib/systemd/system/libvirt-guests.service', 'utf8'));
    assert.ok(readFileSync(`${host.root}/usr/share/man/man8/libvirt-guests.8.gz`).equals(readFileSync('/usr/share/man/man8/libvirt-guests.8.gz')), 'the original page');
    assert.notEqual((await host.sh('command -v libvirt-guests guestd guestctl')).exitCode, 0);
    assert.ok(host.exists('/etc/guestd/guestd.conf'), 'a removed package keeps its configuration');
    await host.ok('dpkg --purge libvirt-guests-ts');
    assert.equal(host.exists('/etc/guestd/guestd.conf'), false);
  });

  it('on a host without libvirt, guestd.socket and our unit work alone', async () => {
    await host.ok('dpkg --purge libvirt-daemon-system >/dev/null');
    assert.equal(host.exists('/lib/systemd/system/libvirt-guests.service'), false, "Debian's unit is gone");
    await host.ok(`dpkg -i ${deb}`);
    const unit = await host.ok('systemctl show -p FragmentPath -p ActiveState -p UnitFileState libvirt-guests.service');
    assert.match(unit, /^FragmentPath=\/lib\/systemd\/system\/libvirt-guests\.service$/m);
    assert.match(unit, /^ActiveState=active$/m, 'started by the installation, so that its stop runs at the next shutdown');
    assert.match(unit, /^UnitFileState=enabled$/m);
    assert.equal((await host.ok('systemctl is-active guestd.socket')).trim(), 'active');
    await host.ok("printf 'URIS=guest:///system\\nON_BOOT=start\\nON_SHUTDOWN=suspend\\n' > /etc/default/libvirt-guests");
    await host.processGuest('alone1', {}, 16);
    await host.ok('systemctl restart libvirt-guests.service'); // stop (saves), then start (restores)
    const journal = await host.ok('journalctl -b 0 -u libvirt-guests.service --no-pager');
    assert.match(journal, /Suspending alone1: done/);
    assert.match(journal, /Resuming guest alone1: done/);
    assert.equal((await host.ok('guestctl -c guest:///system domstate --reason alone1')).trim(), 'running (restored)');
  });
});
