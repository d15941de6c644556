// Host reboots under a real systemd with the Debian package installed: each cycle draws a mix of guests (process
// guests of random sizes and save speeds on guestd, a QEMU guest or not) and settings (PARALLEL_SUSPEND,
// BYPASS_CACHE), powers the container off and boots it again. A loss is a guest that ran before the poweroff and
// does not run, restored, after the boot; the journal must show every notification taken and no stop cut short.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Container, buildPackage, containerName, systemdPrerequisite } from '../helpers/real-systemd.js';
import { log, random, report, trials } from '../helpers/reliability.js';

const SUITE = 'reboot-cycles';
const missing = await systemdPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`${SUITE} cannot run in CI: ${missing}`);
if (missing) console.log(`# skipping ${SUITE}: ${missing}`);

const host = new Container(containerName('cycles'));
before(async () => {
  if (missing) return;
  const deb = await buildPackage();
  await host.boot();
  await host.asHost();
  await host.ok(`dpkg -i ${deb}`);
  await host.qemuReady();
});
after(() => host.destroy());

test(`${SUITE}: every guest that ran before a poweroff runs again after the boot`, { skip: missing ?? false }, async () => {
  const rnd = random(SUITE);
  const cycles = trials(1, 10);
  let guestsSaved = 0;
  let losses = 0;
  const poweroffSeconds: number[] = [];
  const bootSeconds: number[] = [];
  const stopSeconds: number[] = [];
  const defined = new Set<string>();
  const alive: string[] = []; // oldest first
  for (let cycle = 1; cycle <= cycles; cycle++) {
    // at most 6 guests stay from earlier cycles (memory and the overlay's tmpfs are the machine's)
    while (alive.length > 6) {
      const old = alive.shift()!;
      const ctl = defined.has(old) ? 'guestctl -c guest:///system' : 'virsh -q -c qemu:///system';
      await host.ok(`${ctl} destroy ${old} >/dev/null && ${ctl} undefine ${old} >/dev/null`);
    }
    const processGuests = rnd.int(1, 3);
    const withQemu = rnd.next() < 0.5;
    const settings = { PARALLEL_SUSPEND: rnd.int(1, 4), BYPASS_CACHE: rnd.int(0, 1) };
    const sizes: string[] = [];
    for (let i = 1; i <= processGuests; i++) {
      const name = `c${cycle}p${i}`;
      const mib = rnd.int(4, 48);
      const speed = rnd.pick([0, 16, 32, 64]);
      await host.processGuest(name, speed ? { 'save-mib-per-second': speed } : {}, mib);
      defined.add(name);
      alive.push(name);
      sizes.push(`${name}:${mib}MiB@${speed || 'max'}`);
    }
    if (withQemu) {
      await host.qemuGuest('stuck', `c${cycle}q`, 64);
      alive.push(`c${cycle}q`);
    }
    // guests restored by the previous boot run too, and must come back again
    const running = (await host.ok('guestctl -c guest:///system list --name; virsh -q -c qemu:///system list --name'))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    log(SUITE, `cycle ${cycle}: ${running.length} running (new: ${sizes.join(' ')}${withQemu ? ' + QEMU' : ''}), ${JSON.stringify(settings)}`);
    await host.ok(`cat > /etc/default/libvirt-guests <<'EOF'
URIS="qemu:///system guest:///system"
ON_BOOT=start
ON_SHUTDOWN=suspend
PARALLEL_SUSPEND=${settings.PARALLEL_SUSPEND}
BYPASS_CACHE=${settings.BYPASS_CACHE}
EOF`);
    const off = await host.poweroff(300);
    assert.equal(off.exitCode, 0, off.stdout);
    poweroffSeconds.push(Number(/in ([\d.]+) s/.exec(off.stdout)?.[1]));
    const journal = await host.lastBootJournal();
    assert.doesNotMatch(journal, /reception (is disabled|only permitted)|cannot also be the main process|Cannot find unit for notify message/i);
    assert.doesNotMatch(journal, /libvirt-guests\.service: (State 'stop\S*' timed out|Stopping timed out|Failed with result)/);
    const began = Number(/\[\s*([\d.]+)\] \S+ systemd\[1\]: Stopping libvirt-guests\.service/.exec(journal)?.[1]);
    const ended = Number(/\[\s*([\d.]+)\] \S+ systemd\[1\]: libvirt-guests\.service: Deactivated successfully/.exec(journal)?.[1]);
    stopSeconds.push(ended - began);
    guestsSaved += running.length;

    const t0 = Date.now();
    await host.boot();
    bootSeconds.push((Date.now() - t0) / 1000);
    for (const name of running) {
      const qemu = !defined.has(name);
      const state = (await host.sh(qemu ? `virsh -q -c qemu:///system domstate --reason ${name}` : `guestctl -c guest:///system domstate --reason ${name}`)).stdout.trim();
      if (state !== 'running (restored)') {
        losses++;
        log(SUITE, `cycle ${cycle}: LOST ${name}: ${state}`);
      }
    }
  }
  const mean = (xs: number[]): number => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10;
  report(SUITE, {
    cycles,
    guestsSaved,
    losses,
    meanStopS: mean(stopSeconds),
    meanPoweroffS: mean(poweroffSeconds),
    meanBootS: mean(bootSeconds),
  });
  assert.equal(losses, 0);
});
