// Where guestd keeps its files, as root and as an ordinary user (DESIGN §4, after libvirtd(8)). Pure: the
// environment and the uid are passed in, so both layouts can be tested on one machine.
import path from 'node:path';

export interface DaemonPaths {
  /** true when running as root: the system daemon (guest:///system) */
  privileged: boolean;
  configFile: string;
  /** directory of the unix sockets; the driver's runtime files live here too */
  sockDir: string;
  pidFile: string;
  stateDir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export const SOCKET_NAMES = {
  rw: 'guestd-sock',
  ro: 'guestd-sock-ro',
  admin: 'guestd-admin-sock',
} as const;

export type SocketRole = keyof typeof SOCKET_NAMES;

export interface PathEnv {
  HOME?: string | undefined;
  XDG_CONFIG_HOME?: string | undefined;
  XDG_RUNTIME_DIR?: string | undefined;
  XDG_STATE_HOME?: string | undefined;
}

export function defaultPaths(uid: number, env: PathEnv): DaemonPaths {
  if (uid === 0) {
    return {
      privileged: true,
      configFile: '/etc/guestd/guestd.conf',
      sockDir: '/run/guestd',
      pidFile: '/run/guestd.pid',
      stateDir: '/var/lib/guestd',
      caFile: '/etc/pki/CA/cacert.pem',
      certFile: '/etc/pki/guestd/servercert.pem',
      keyFile: '/etc/pki/guestd/private/serverkey.pem',
    };
  }
  const home = env.HOME || '/';
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  const runtimeDir = path.join(env.XDG_RUNTIME_DIR || path.join(home, '.cache'), 'guestd');
  // libvirt keeps a session's persistent data under the user's home; XDG's state directory is its modern home
  const stateHome = env.XDG_STATE_HOME || path.join(home, '.local', 'state');
  const pki = path.join(home, '.pki', 'guestd');
  return {
    privileged: false,
    configFile: path.join(configHome, 'guestd', 'guestd.conf'),
    sockDir: runtimeDir,
    pidFile: path.join(runtimeDir, 'guestd.pid'),
    stateDir: path.join(stateHome, 'guestd'),
    caFile: path.join(pki, 'cacert.pem'),
    certFile: path.join(pki, 'servercert.pem'),
    keyFile: path.join(pki, 'serverkey.pem'),
  };
}
