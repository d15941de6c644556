// The main job, on a bare machine: a bundled guestd in a temp dir, four process guests, then what happens on the
// night a host shuts down and boots again — libvirt-guests stop (parallel managed saves with progress), status,
// start (restore, clock sync), and a shutdown with a stuck guest and the fallback. Every step is a real command.
//   npm run build && npm run demo
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'guestd-demo-'));
const sock = path.join(dir, 'run', 'guestd-sock');
const uri = `guest+unix:///system?socket=${sock}`;
const env = {
  LIBVIRT_GUESTS_CONFIG: path.join(dir, 'libvirt-guests.conf'),
  LIBVIRT_GUESTS_LIST_FILE: path.join(dir, 'libvirt-guests.list'),
  LIBVIRT_GUESTS_LOCK_FILE: path.join(dir, 'libvirt-guests.lock'),
};

const GUESTS: [string, number, Record<string, string | number>][] = [
  ['web1', 64, { 'shutdown-seconds': 1, agent: 'yes' }],
  ['db1', 256, { 'shutdown-seconds': 2, agent: 'yes', 'save-mib-per-second': 128 }],
  ['cache1', 128, { 'shutdown-seconds': 1, agent: 'no' }],
  ['legacy1', 32, { 'honor-shutdown': 'no', agent: 'no' }],
];

async function show(bin: string, args: string[]): Promise<void> {
  const shown = bin === 'guestctl' ? ['guestctl', '-c', '"$URI"', ...args] : [bin, ...args];
  console.log(`\n$ ${shown.join(' ')}`);
  const file = path.join(root, 'bin', bin === 'libvirt-guests' ? 'run.js' : `${bin}.js`);
  const argv = bin === 'guestctl' ? ['-c', uri, ...args] : args;
  const r = await execa(process.execPath, [file, ...argv], { env, reject: false, all: true });
  if (r.all) console.log(r.all);
  console.log(`(exit ${r.exitCode})`);
}

function configure(lines: string[]): void {
  writeFileSync(env.LIBVIRT_GUESTS_CONFIG, `URIS='${uri}'\n${lines.join('\n')}\n`);
  console.log(`\n# /etc/sysconfig/libvirt-guests now says: ${lines.join(' ')}`);
}

async function waitForSocket(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(sock)) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(sock, () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
      if (ok) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('guestd did not come up');
}

async function main(): Promise<void> {
  const conf = path.join(dir, 'guestd.conf');
  writeFileSync(conf, `unix_sock_dir = "${path.join(dir, 'run')}"\nstate_dir = "${path.join(dir, 'state')}"\n`);
  console.log(`# guestd, the bundled daemon, in ${dir}\nURI='${uri}'`);
  const daemon = spawn(process.execPath, [path.join(root, 'bin/guestd.js'), '-f', conf, '-p', path.join(dir, 'guestd.pid')], {
    stdio: 'ignore',
  });
  try {
    await waitForSocket();
    for (const [name, mib, behavior] of GUESTS) {
      const attrs = Object.entries(behavior).map(([k, v]) => ` ${k}="${v}"`).join('');
      const xml = path.join(dir, `${name}.xml`);
      writeFileSync(
        xml,
        `<domain type='process'>\n  <name>${name}</name>\n  <memory unit='MiB'>${mib}</memory>\n` +
          `  <metadata><gd:behavior xmlns:gd="urn:guestd:behavior:1"${attrs}/></metadata>\n</domain>\n`,
      );
      await show('guestctl', ['define', xml]);
      await show('guestctl', ['start', name]);
    }
    await show('guestctl', ['list', '--all']);

    configure(['ON_SHUTDOWN=suspend', 'ON_BOOT=start', 'SYNC_TIME=1', 'PARALLEL_SUSPEND=4']);
    console.log('\n# the host shuts down: systemd runs ExecStop');
    await show('libvirt-guests', ['stop']);
    await show('libvirt-guests', ['status']);
    await show('guestctl', ['list', '--all']);

    console.log('\n# the host boots: systemd runs ExecStart');
    await show('libvirt-guests', ['start']);
    await show('guestctl', ['domstate', '--reason', 'db1']);
    await show('libvirt-guests', ['gueststatus']);

    configure(['ON_SHUTDOWN=shutdown', 'PARALLEL_SHUTDOWN=4', 'SHUTDOWN_TIMEOUT=5', 'FALLBACK=1']);
    console.log('\n# a shutdown where legacy1 ignores the power button: with FALLBACK=1 it is powered off after 5 s');
    await show('libvirt-guests', ['shutdown', '--dry-run']);
    await show('libvirt-guests', ['shutdown']);
    await show('guestctl', ['list', '--all']);
    await show('libvirt-guests', ['start']);

    console.log('\n# per-guest policy in each guest\'s metadata: db1 goes down last and comes up first, web1 waits for it;');
    console.log('# legacy1 is powered off at once, cache1 is left alone');
    for (const [name] of GUESTS) await show('guestctl', ['start', name]);
    configure(['ON_SHUTDOWN=suspend', 'ON_BOOT=start', 'PARALLEL_SUSPEND=4']);
    await show('libvirt-guests', ['policy', 'set', 'db1', '--order', '1', '--ready', 'agent', '--ready-timeout', '30']);
    await show('libvirt-guests', ['policy', 'set', 'web1', '--order', '2']);
    await show('libvirt-guests', ['policy', 'set', 'legacy1', '--on-shutdown', 'destroy']);
    await show('libvirt-guests', ['policy', 'set', 'cache1', '--on-shutdown', 'ignore']);
    await show('libvirt-guests', ['policy', 'show']);
    await show('libvirt-guests', ['stop']);
    await show('libvirt-guests', ['start']);
    await show('guestctl', ['list', '--all']);
  } finally {
    for (const [name] of GUESTS) await execa(process.execPath, [path.join(root, 'bin/guestctl.js'), '-c', uri, 'destroy', name], { reject: false });
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
