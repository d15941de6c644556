// Under a real systemd, with the package installed on Debian: the stock configuration keeps Debian's behaviour
// (guests shut down at stop, left off at start), and a guest that never shuts down cannot hold the host's poweroff
// past STOP_DEADLINE, although SHUTDOWN_TIMEOUT=0 waits for ever and the stop keeps systemd's timeout at bay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStockConffile } from '../helpers/conffile.js';
import { Container, buildPackage, containerName, systemdPrerequisite } from '../helpers/real-systemd.js';

const missing = await systemdPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`the system tests cannot run in CI: ${missing}`);
if (missing) console.log(`# skipping the Debian-defaults system test: ${missing}`);

describe("Debian's defaults and the stop deadline under systemd", { skip: missing ?? false }, () => {
  const host = new Container(containerName('debian'));

  before(async () => {
    const deb = await buildPackage();
    await host.boot();
    await host.asHost();
    await host.ok(`dpkg -i ${deb}`);
    await host.qemuReady();
  });
  after(() => host.destroy());

  it("Debian's stock configuration: stop shuts the guests down, start leaves them off", async () => {
    const stock = await host.sh(isStockConffile('/etc/default/libvirt-guests'));
    assert.equal(stock.exitCode, 0, "Debian's file, as installed (this machine's copy, the container's lower layer, was edited?)");
    await host.qemuGuest('acpi', 'debq1', 128);
    await host.ok('systemctl stop libvirt-guests.service');
    assert.equal((await host.ok('virsh -q -c qemu:///system domstate --reason debq1')).trim(), 'shut off (shutdown)');
    assert.match(await host.ok('virsh -q -c qemu:///system dominfo debq1'), /Managed save:\s+no/);
    await host.ok('systemctl start libvirt-guests.service');
    assert.equal((await host.ok('virsh -q -c qemu:///system domstate debq1')).trim(), 'shut off', 'ON_BOOT=ignore');
    assert.equal((await host.sh('test -f /var/lock/libvirt-guests')).exitCode, 0, 'the lock where Debian keeps it');
    const journal = await host.ok('journalctl -b 0 -u libvirt-guests.service --no-pager');
    assert.match(journal, /libvirt-guests\[\d+\]: Shutdown of guest debq1 complete\./);
  });

  it('a guest that ignores the power button does not hold the poweroff past STOP_DEADLINE', async () => {
    await host.processGuest('stuck1', { 'honor-shutdown': 'no' }, 16);
    await host.ok(`cat > /etc/default/libvirt-guests <<'EOF'
URIS=guest:///system
ON_SHUTDOWN=shutdown
SHUTDOWN_TIMEOUT=0
STOP_DEADLINE=5
EOF`);
    // without the deadline this stop would wait for ever (and ask systemd for more time all along)
    const off = await host.poweroff(120);
    assert.equal(off.exitCode, 0, `the poweroff was held: ${off.stdout}`);
    const journal = await host.lastBootJournal();
    assert.match(journal, /libvirt-guests\[\d+\]: The stop deadline of 5 seconds \(STOP_DEADLINE\) expired/);
    assert.match(journal, /libvirt-guests\.service: Control process exited, code=exited, status=1\/FAILURE/, 'the stop reports the guest it could not handle');
    assert.doesNotMatch(journal, /libvirt-guests\.service: (State 'stop\S*' timed out|Stopping timed out)/, 'ended by its deadline, not killed by systemd');
    assert.doesNotMatch(journal, /reception (is disabled|only permitted)|cannot also be the main process|Cannot find unit for notify message/i);
  });
});
