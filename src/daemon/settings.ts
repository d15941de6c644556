// The effective settings of one guestd run: built-in paths (root or not) overlaid with guestd.conf and the command
// line. Pure.
import path from 'node:path';
import type { GuestdConfig } from '../config/guestd-conf.js';
import type { DaemonOptions } from './options.js';
import { SOCKET_NAMES, type DaemonPaths, type SocketRole } from './paths.js';

export interface DaemonSettings {
  privileged: boolean;
  configFile: string;
  /** the config file was named with -f (so it must exist) */
  configExplicit: boolean;
  pidFile: string;
  sockDir: string;
  sockets: Record<SocketRole, string>;
  stateDir: string;
  /** the driver's runtime files (guest status, monitor sockets): a private directory beside the sockets */
  runDir: string;
  tls: { caFile: string; certFile: string; keyFile: string };
}

export function resolveSettings(paths: DaemonPaths, options: DaemonOptions, config: GuestdConfig): DaemonSettings {
  const sockDir = config.unixSockDir ?? paths.sockDir;
  const sockets = Object.fromEntries(
    Object.entries(SOCKET_NAMES).map(([role, name]) => [role, path.join(sockDir, name)]),
  ) as Record<SocketRole, string>;
  return {
    privileged: paths.privileged,
    configFile: options.configFile ?? paths.configFile,
    configExplicit: options.configFile !== null,
    pidFile: options.pidFile ?? paths.pidFile,
    sockDir,
    sockets,
    stateDir: config.stateDir ?? paths.stateDir,
    runDir: path.join(sockDir, 'process'),
    tls: {
      caFile: config.caFile ?? paths.caFile,
      certFile: config.certFile ?? paths.certFile,
      keyFile: config.keyFile ?? paths.keyFile,
    },
  };
}
