// One guestd run: PID file, driver, listeners, signals, idle timeout, systemd notification. The effects live here;
// the pieces it wires (options, config, settings, socket activation, handlers) are pure or injected.
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import type net from 'node:net';
import type tls from 'node:tls';
import {
  describeConfigChanges,
  loadGuestdConf,
  type GuestdConfig,
} from '../config/guestd-conf.js';
import type { Driver } from '../driver/driver.js';
import { UsageError } from '../errors.js';
import { startIdleTimer, type IdleTimer } from './idle-timer.js';
import {
  closeListener,
  listenFd,
  listenTls,
  listenUnix,
  resolveGroup,
  tlsServerOptions,
  type Listener,
  type TlsPolicy,
  type TlsSettings,
} from './listeners.js';
import type { Logger } from './log.js';
import { systemdSupervisor } from '../effects/sd-notify.js';
import type { DaemonOptions } from './options.js';
import { acquirePidFile, type PidFileHandle } from './pid-file.js';
import type { DaemonSettings } from './settings.js';
import { activatedSockets, clearActivationEnv, type ActivatedRole } from './socket-activation.js';

/** What serves the REMOTE program on accepted connections (server core + handlers). */
export interface RpcService {
  accept(socket: net.Socket, access: { readonly: boolean; role: ActivatedRole }): void;
  clientCount(): number;
  /** drop every client connection */
  close(): Promise<void>;
}

export interface DaemonDeps {
  options: DaemonOptions;
  settings: DaemonSettings;
  config: GuestdConfig;
  log: Logger;
  createDriver(settings: DaemonSettings, log: Logger): Driver;
  createService(driver: Driver, log: Logger, config: GuestdConfig): RpcService;
  env: NodeJS.ProcessEnv;
  /** called once everything listens (the -d parent is told here) */
  onReady?: () => void;
}

export interface RunningDaemon {
  /** resolves with the exit status when the daemon has stopped */
  done: Promise<number>;
  stop(reason: string): void;
}

export async function startDaemon(deps: DaemonDeps): Promise<RunningDaemon> {
  const { options, settings, log, env } = deps;
  let config = deps.config;
  const activated = activatedSockets(env, process.pid);
  clearActivationEnv(env);
  if (activated && options.listen) {
    throw new UsageError('--listen cannot be used with systemd socket activation', {
      hint: 'Enable guestd-tls.socket instead, or start guestd without socket activation.',
    });
  }
  const notifier = systemdSupervisor(env, (m) => log.warn(m));
  // a SIGTERM during start-up must not kill us half-way (default action): remember it, stop once set up
  let earlySignal: NodeJS.Signals | null = null;
  const early = (signal: NodeJS.Signals): void => {
    earlySignal ??= signal;
  };
  const earlySignals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const signal of earlySignals) process.on(signal, early);
  const dropEarly = (): void => {
    for (const signal of earlySignals) process.off(signal, early);
  };

  const pidFile: PidFileHandle = acquirePidFile(settings.pidFile);
  const cleanups: (() => Promise<void> | void)[] = [() => pidFile.release()];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        log.warn(`during shutdown: ${(error as Error).message}`);
      }
    }
  };

  let driver: Driver;
  let service: RpcService;
  const listeners: Listener[] = [];
  let tlsListener: Listener | null = null;
  // read by the TLS listener at every connection, so SIGHUP can change it
  const tlsPolicy: TlsPolicy = { allowedDnList: config.tlsAllowedDnList, maxAnonymousClients: config.maxAnonymousClients };
  const tlsGate = { policy: tlsPolicy, log: (m: string) => log.warn(m) };
  try {
    // the socket directory is public (the read-only socket is for everyone); the driver's runDir inside is private
    mkdirSync(settings.sockDir, { recursive: true, mode: 0o755 });
    driver = deps.createDriver(settings, log);
    await driver.init();
    cleanups.push(() => driver.close());
    service = deps.createService(driver, log, config);
    // Listeners first stop accepting; their close completes only once every connection is gone, and the service's
    // close (next in the reverse order) is what ends the connections: so start both, then wait for both.
    cleanups.push(async () => {
      const closed = Promise.all(listeners.map(closeListener));
      await service.close();
      await closed;
    });

    const accept = (socket: net.Socket, role: ActivatedRole): void => {
      log.debug(`client connected on the ${role} socket`);
      service.accept(socket, { readonly: role === 'ro', role });
    };
    if (activated) {
      for (const s of activated) {
        const tlsOptions = s.role === 'tls' ? tlsServerOptions(tlsSettings(config, settings)) : undefined;
        listeners.push(await listenFd(s.fd, s.role, accept, tlsOptions && { ...tlsGate, options: tlsOptions }));
      }
    } else {
      const gid = config.unixSockGroup ? resolveGroup(config.unixSockGroup) : null;
      const backlog = config.maxQueuedClients;
      listeners.push(await listenUnix(settings.sockets.rw, 'rw', { mode: config.unixSockRwPerms, gid }, accept, backlog));
      listeners.push(await listenUnix(settings.sockets.ro, 'ro', { mode: config.unixSockRoPerms, gid }, accept, backlog));
      listeners.push(
        await listenUnix(settings.sockets.admin, 'admin', { mode: config.unixSockAdminPerms, gid: null }, accept, backlog),
      );
      if (options.listen) {
        if (!config.listenTls) {
          log.warn('--listen given but listen_tls = 0: no TCP listener (plain TCP is never offered)');
        } else {
          tlsListener = await listenTls(tlsSettings(config, settings), tlsGate, accept, config.maxQueuedClients);
          listeners.push(tlsListener);
        }
      }
    }
  } catch (error) {
    dropEarly();
    await cleanup();
    throw error;
  }
  for (const l of listeners) log.info(`listening on ${l.role} ${l.where}`);

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let stopping = false;
  let idle: IdleTimer | null = null;
  const onSignal: Partial<Record<NodeJS.Signals, () => void>> = {};

  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping: ${reason}; running guests are left running`);
    notifier.stopping();
    idle?.stop();
    for (const [signal, fn] of Object.entries(onSignal)) process.off(signal, fn);
    // STOPPING=1 must reach systemd while we still live, or it is refused as coming from a stranger
    void cleanup()
      .then(() => notifier.settled())
      .then(() => resolveDone(0));
  };

  const reload = (): void => {
    let next: GuestdConfig;
    try {
      next = loadGuestdConf(settings.configFile, { optional: !settings.configExplicit });
    } catch (error) {
      log.error(`SIGHUP: configuration not reloaded, keeping the current settings: ${(error as Error).message}`);
      return;
    }
    const changes = describeConfigChanges(config, next);
    if (changes.length === 0) {
      log.info(`SIGHUP: reloaded ${settings.configFile}: nothing changed`);
      config = next;
      return;
    }
    for (const change of changes) log.info(`SIGHUP: ${change}`);
    applyLive(config, next, listeners, tlsListener, tlsPolicy, settings, log);
    config = next;
  };

  onSignal.SIGTERM = () => stop('SIGTERM');
  onSignal.SIGINT = () => stop('SIGINT');
  onSignal.SIGHUP = reload;
  for (const [signal, fn] of Object.entries(onSignal)) process.on(signal, fn);
  dropEarly();

  if (options.timeout > 0) {
    idle = startIdleTimer(
      options.timeout,
      { clients: () => service.clientCount(), runningGuests: () => driver.hasRunningGuests() },
      () => stop(`no clients and no running guests for ${options.timeout} s`),
    );
  }
  notifier.ready(`guestd ready, ${listeners.length} sockets`);
  deps.onReady?.();
  if (earlySignal === 'SIGHUP') reload();
  else if (earlySignal) stop(earlySignal);
  return { done, stop };
}

function tlsSettings(config: GuestdConfig, settings: DaemonSettings): TlsSettings {
  return { host: config.listenAddr, port: config.tlsPort, ...settings.tls };
}

/** Apply what can change without a restart; say which changes need one. */
function applyLive(
  before: GuestdConfig,
  after: GuestdConfig,
  listeners: Listener[],
  tlsListener: Listener | null,
  tlsPolicy: TlsPolicy,
  settings: DaemonSettings,
  log: Logger,
): void {
  log.setLevel(after.logLevel);
  const restartOnly: (keyof GuestdConfig)[] = [
    'unixSockDir',
    'stateDir',
    'listenTls',
    'listenAddr',
    'tlsPort',
    'maxClients',
    'maxQueuedClients',
    'maxClientRequests',
    'maxBufferedInput',
  ];
  for (const key of restartOnly) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      log.warn(`SIGHUP: the change of ${key} takes effect after a restart`);
    }
  }
  tlsPolicy.allowedDnList = after.tlsAllowedDnList;
  tlsPolicy.maxAnonymousClients = after.maxAnonymousClients;
  if (tlsListener) {
    try {
      (tlsListener.server as tls.Server).setSecureContext(tlsServerOptions(tlsSettings(after, settings)));
    } catch (error) {
      log.error(`SIGHUP: TLS settings not applied: ${(error as Error).message}`);
    }
  }
  for (const l of listeners) {
    if (!l.ownedPath) continue;
    const mode =
      l.role === 'ro' ? after.unixSockRoPerms : l.role === 'admin' ? after.unixSockAdminPerms : after.unixSockRwPerms;
    try {
      chmodSync(l.ownedPath, mode);
      if (l.role !== 'admin' && after.unixSockGroup !== before.unixSockGroup && after.unixSockGroup) {
        chownSync(l.ownedPath, -1, resolveGroup(after.unixSockGroup));
      }
    } catch (error) {
      log.error(`SIGHUP: cannot update ${l.ownedPath}: ${(error as Error).message}`);
    }
  }
}

