// A real systemd as PID 1 in a container on a copy-on-write overlay of this machine (scripts/real-systemd): boot,
// run commands inside, power off, boot again (a host reboot), read what the shutdown left from outside. Nothing of
// the machine changes; destroy() drops the overlay. Also builds the Debian package the system tests install.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, repoPath } from './repo.js';

const SCRIPTS = repoPath('scripts', 'real-systemd');

export interface Run {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Why a real systemd cannot be booted here, or null when it can (boot.sh installs systemd-nspawn when missing). */
export async function systemdPrerequisite(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'not root (a container needs root)';
  if (!existsSync('/lib/systemd/systemd')) return 'no /lib/systemd/systemd to boot (package systemd)';
  if (!existsSync('/var/lib/real-libvirt/boot/vmlinuz')) return 'the QEMU test guests are missing: run scripts/real-libvirt/setup.sh';
  if ((await execa('sh', ['-c', 'command -v dpkg-deb'], { reject: false })).exitCode !== 0) return 'dpkg-deb is missing';
  return null;
}

/** `npm run package` without its build (the tests run on the build of `npm test`); returns the .deb's path. */
export async function buildPackage(): Promise<string> {
  const r = await execa('bash', [repoPath('scripts', 'package', 'build-deb.sh'), '--no-build'], { reject: false, cwd: REPO_ROOT });
  if (r.exitCode !== 0) throw new Error(`building the package failed:\n${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

/**
 * Runs a test-bed script in its own process group and kills the whole group past `timeoutMs`: killing the script
 * alone leaves a hung child (nsenter waiting for a unit) holding its output pipe, and the caller waiting for ever.
 */
async function script(args: string[], timeoutMs: number, env?: Record<string, string>): Promise<Run> {
  const child = execa('bash', args, { reject: false, detached: true, ...(env ? { env } : {}) });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, timeoutMs);
  const r = await child;
  clearTimeout(timer);
  const note = timedOut ? `\n(killed: still running after ${timeoutMs / 1000} s)` : '';
  return { stdout: r.stdout, stderr: `${r.stderr}${note}`, exitCode: r.exitCode ?? -1 };
}

export class Container {
  /** the container's root as seen from this machine (the overlay stays mounted after a poweroff) */
  readonly root: string;

  constructor(readonly name: string) {
    this.root = `/run/real-systemd/${name}/root`;
  }

  async boot(): Promise<void> {
    const r = await script([path.join(SCRIPTS, 'boot.sh'), this.name, REPO_ROOT], 180_000);
    if (r.exitCode !== 0) throw new Error(`boot of ${this.name} failed:\n${r.stdout}\n${r.stderr}`);
  }

  /** a shell command inside, as root */
  async sh(command: string, options: { timeout?: number } = {}): Promise<Run> {
    return script([path.join(SCRIPTS, 'in.sh'), this.name, 'sh', '-c', command], options.timeout ?? 180_000, { LC_ALL: 'C' });
  }

  /** like sh(), failing with the output when the command does */
  async ok(script: string, options: { timeout?: number } = {}): Promise<string> {
    const r = await this.sh(script, options);
    if (r.exitCode !== 0) throw new Error(`in ${this.name}: \`${script}\` exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** `systemctl poweroff` inside, and wait until the container is gone (poweroff.sh's exit status: 0 when it was) */
  async poweroff(limitSeconds: number): Promise<Run> {
    return script([path.join(SCRIPTS, 'poweroff.sh'), this.name, String(limitSeconds)], (limitSeconds + 30) * 1000);
  }

  /** the journal of the last boot, read from outside (after a poweroff) */
  async lastBootJournal(): Promise<string> {
    const r = await execa('journalctl', ['-D', path.join(this.root, 'var', 'log', 'journal'), '-b', '0', '--no-pager', '-o', 'short-monotonic'], {
      reject: false,
      env: { LC_ALL: 'C' },
    });
    if (r.exitCode !== 0) throw new Error(`journalctl: ${r.stderr}`);
    return r.stdout;
  }

  /** a file of the container, read from outside (absolute links inside resolve on this machine): null when absent */
  file(inside: string): string | null {
    const p = path.join(this.root, inside);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }

  exists(inside: string): boolean {
    return existsSync(path.join(this.root, inside));
  }

  async destroy(): Promise<void> {
    await execa('bash', [path.join(SCRIPTS, 'destroy.sh'), this.name], { reject: false });
  }

  /**
   * Makes the booted container a host that may install packages and run services: this machine is a build image
   * whose /usr/sbin/policy-rc.d forbids starting services (Docker's), which a real host does not have.
   */
  async asHost(): Promise<void> {
    await this.ok('rm -f /usr/sbin/policy-rc.d');
  }

  /** the QEMU guests of the container's own libvirtd need this (cgroup v1 is read-only in a container) */
  async qemuReady(): Promise<void> {
    await this.ok("grep -q '^cgroup_controllers = \\[ \\]' /etc/libvirt/qemu.conf || echo 'cgroup_controllers = [ ]' >> /etc/libvirt/qemu.conf; systemctl restart libvirtd");
  }

  /** defines and starts a QEMU guest of scripts/real-libvirt (kind stuck, acpi, kstuck); kernel guests are waited for */
  async qemuGuest(kind: 'stuck' | 'acpi' | 'kstuck', name: string, memMiB: number, fillMiB = 0): Promise<void> {
    const guests = repoPath('scripts', 'real-libvirt', 'guests.sh');
    const serial = `/var/log/libvirt/qemu/${name}.serial.log`;
    await this.ok(
      `bash ${guests} xml ${kind} ${name} ${memMiB} ${fillMiB} > /tmp/${name}.xml && virsh -q -c qemu:///system define /tmp/${name}.xml && rm -f ${serial} && virsh -q -c qemu:///system start ${name}`,
    );
    if (kind === 'stuck') return;
    await this.ok(`for i in $(seq 1200); do grep -q 'lgt-init: ready' ${serial} 2>/dev/null && exit 0; sleep 0.1; done; cat ${serial}; exit 1`);
  }

  /** defines and starts a process guest on the container's guestd (socket-activated by the first connection) */
  async processGuest(name: string, behavior: Record<string, string | number>, memMiB: number): Promise<void> {
    const attrs = Object.entries(behavior).map(([k, v]) => `${k}="${v}"`).join(' ');
    const xml = `<domain type="process"><name>${name}</name><memory unit="MiB">${memMiB}</memory><metadata><gd:behavior xmlns:gd="urn:guestd:behavior:1" ${attrs}/></metadata></domain>`;
    await this.ok(`cat > /tmp/${name}.xml <<'EOF'\n${xml}\nEOF\nguestctl -c guest:///system define /tmp/${name}.xml && guestctl -c guest:///system start ${name}`);
  }
}

/** a container name unique to this test process */
export const containerName = (what: string): string => `lgts-${what}-${process.pid}`;
