// systemd socket activation (sd_listen_fds(3)): which pre-opened sockets we were given, and in which role.
// Pure: the environment and our pid are passed in.
import type { SocketRole } from './paths.js';

export type ActivatedRole = SocketRole | 'tls';

export interface ActivatedSocket {
  fd: number;
  name: string;
  role: ActivatedRole;
}

const SD_LISTEN_FDS_START = 3;

/** The role of a passed fd by its FileDescriptorName= (default: the socket unit's name). */
function roleOfFdName(name: string): ActivatedRole | null {
  const base = name.replace(/\.socket$/, '');
  if (base === 'guestd' || base === 'guestd-sock') return 'rw';
  if (base === 'guestd-ro' || base === 'guestd-sock-ro') return 'ro';
  if (base === 'guestd-admin' || base === 'guestd-admin-sock') return 'admin';
  if (base === 'guestd-tls') return 'tls';
  return null;
}

/**
 * The sockets passed by systemd, or null when we were not socket-activated (LISTEN_PID absent or someone else's).
 * Throws on an fd whose name we do not know, so a unit file mistake is not silently ignored.
 */
export function activatedSockets(env: NodeJS.ProcessEnv, pid: number): ActivatedSocket[] | null {
  if (!env.LISTEN_PID || Number(env.LISTEN_PID) !== pid) return null;
  const count = Number(env.LISTEN_FDS ?? '0');
  if (!Number.isInteger(count) || count <= 0) return null;
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  const sockets: ActivatedSocket[] = [];
  for (let i = 0; i < count; i++) {
    const name = names[i] || 'unknown';
    const role = roleOfFdName(name);
    if (!role) {
      throw new Error(
        `socket activation: fd ${SD_LISTEN_FDS_START + i} has the unknown name '${name}' ` +
          '(expected guestd.socket, guestd-ro.socket, guestd-admin.socket or guestd-tls.socket)',
      );
    }
    sockets.push({ fd: SD_LISTEN_FDS_START + i, name, role });
  }
  return sockets;
}

/** Remove the activation variables so child processes (guests) do not inherit them. */
export function clearActivationEnv(env: NodeJS.ProcessEnv): void {
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
}
