// From a libvirt URI to where the native client connects (ResolvedUri), following libvirt's remote driver.
// Pure: everything read from the machine comes through HostEffects.
//
// `default` is resolved in libvirt's order (virConnectOpen with a NULL name):
//   1. the environment variable LIBVIRT_DEFAULT_URI, when set and not empty;
//   2. `uri_default` in the client's libvirt.conf: /etc/libvirt/libvirt.conf as root,
//      $XDG_CONFIG_HOME/libvirt/libvirt.conf otherwise ($XDG_CONFIG_HOME defaults to ~/.config);
//   3. probing the daemon sockets that exist: as root /run/libvirt/virtqemud-sock or /run/libvirt/libvirt-sock
//      (qemu:///system), then /run/guestd/guestd-sock (guest:///system); as another user the same files under
//      $XDG_RUNTIME_DIR (default ~/.cache) for qemu:///session, then guest:///session.
// When nothing is found the result has no target: virsh (which can start a session daemon itself) decides.
import { parseUriDefault } from './libvirt-conf.js';
import type { HostEffects } from './host-effects.js';
import type { ResolvedUri, Target } from './target.js';
import { formatUri, parseUri, UriError, uriParam, type LibvirtUri } from './uri.js';

export interface ResolveOptions {
  readonly?: boolean;
}

const TLS_PORT = 16514;

/** Parameters the client-side remote driver consumes; they never reach the daemon in CONNECT_OPEN. */
const CLIENT_PARAMS = new Set([
  'name', 'command', 'socket', 'auth', 'authtype', 'netcat', 'keyfile', 'sshauth', 'no_verify', 'no_tty',
  'pkipath', 'known_hosts', 'known_hosts_verify', 'tls_priority', 'mode', 'proxy',
]);

/** Drivers that libvirt runs inside the client library: there is no daemon to connect to. */
const CLIENT_SIDE_DRIVERS = new Set(['test', 'esx', 'gsx', 'vpx', 'hyperv', 'vmwareplayer', 'vmwarews', 'vmwarefusion', 'openvz']);

export interface DefaultUriChoice {
  uri: string;
  /** where it came from, for notes and --verbose output */
  source: 'env' | 'config' | 'probe';
  /** the config file or socket that decided */
  detail?: string;
}

export function resolveUri(text: string, options: ResolveOptions, fx: HostEffects): ResolvedUri {
  const readonly = options.readonly ?? false;
  const parsed = parseUri(text);
  if (parsed.kind === 'uri') return resolveParsed(parsed, readonly, fx);
  const choice = defaultUri(fx);
  if (!choice) {
    return {
      original: 'default',
      remoteName: '',
      target: null,
      virshReason:
        'no default URI is set (LIBVIRT_DEFAULT_URI, uri_default in libvirt.conf) and no daemon socket was found, ' +
        'so virsh picks the connection itself',
      readonly,
    };
  }
  const concrete = parseUri(choice.uri);
  if (concrete.kind === 'default') {
    throw new UriError('default', `${choice.source === 'env' ? 'LIBVIRT_DEFAULT_URI' : `uri_default in ${choice.detail}`} is 'default' itself`, 'set it to a concrete URI such as qemu:///system');
  }
  return resolveParsed(concrete, readonly, fx);
}

/** libvirt's choice for `default` (see the order at the top of this file), or null when nothing applies. */
export function defaultUri(fx: HostEffects): DefaultUriChoice | null {
  const fromEnv = fx.env.LIBVIRT_DEFAULT_URI;
  if (fromEnv) return { uri: fromEnv, source: 'env' };
  const confFile = fx.uid === 0 ? '/etc/libvirt/libvirt.conf' : `${configHome(fx)}/libvirt/libvirt.conf`;
  const conf = fx.readFile(confFile);
  const fromConf = conf === null ? null : parseUriDefault(conf, confFile);
  if (fromConf) return { uri: fromConf, source: 'config', detail: confFile };
  const scope = fx.uid === 0 ? 'system' : 'session';
  const candidates: Array<[string, string]> = [
    [unixSocket('qemu', scope, false, 'auto', fx), `qemu:///${scope}`],
    [unixSocket('guest', scope, false, 'auto', fx), `guest:///${scope}`],
  ];
  for (const [socket, uri] of candidates) if (fx.exists(socket)) return { uri, source: 'probe', detail: socket };
  return null;
}

function resolveParsed(uri: LibvirtUri, readonly: boolean, fx: HostEffects): ResolvedUri {
  const base = { original: uri.text, remoteName: remoteName(uri), readonly };
  const viaVirsh = (virshReason: string): ResolvedUri => ({ ...base, target: null, virshReason });

  if (CLIENT_SIDE_DRIVERS.has(uri.driver) && !uri.transport) {
    return viaVirsh(`the ${uri.driver} driver runs inside the libvirt client library, not in a daemon`);
  }
  if (uri.driver === 'qemu' && uri.path === '/embed') {
    return viaVirsh('qemu:///embed runs QEMU inside the client process');
  }
  const auth = uriParam(uri, 'auth') ?? uriParam(uri, 'authtype');
  // A URI with a host and no transport means TLS in libvirt.
  const transport = uri.transport ?? (uri.host ? 'tls' : 'unix');
  switch (transport) {
    case 'ssh':
    case 'libssh':
    case 'libssh2':
      return viaVirsh(`the ${transport} transport tunnels through an SSH client, which the native client does not speak`);
    case 'ext':
      return viaVirsh('the ext transport runs an external command (command=…), which only virsh does');
    case 'tcp':
      return viaVirsh('the tcp transport is plain TCP, usually with SASL authentication, which the native client does not implement');
  }
  if (auth && auth !== 'none') {
    return viaVirsh(`authentication '${auth}' (SASL/polkit) is not implemented by the native client`);
  }
  if (transport === 'unix') {
    if (uri.host) {
      throw new UriError(uri.text, `a unix socket cannot reach the remote host '${uri.host}'`, `use ${uri.driver}+tls://${uri.host}${uri.path} or ${uri.driver}+ssh://${uri.host}${uri.path}`);
    }
    const explicit = uriParam(uri, 'socket');
    const socketPath = explicit ?? unixSocket(uri.driver, scopeOf(uri), readonly, modeOf(uri), fx);
    return { ...base, target: { transport: 'unix', socketPath } };
  }
  return { ...base, target: tlsTarget(uri, fx) };
}

function scopeOf(uri: LibvirtUri): 'system' | 'session' {
  const path = uri.path.replace(/\/+$/, '') || '/';
  if (path === '/session') return 'session';
  if (path === '/system' || path === '/') return 'system';
  const hint =
    uri.driver === 'qemu' || uri.driver === 'guest'
      ? `try ${uri.driver}:///system or ${uri.driver}:///session`
      : `try ${uri.driver}:///system`;
  throw new UriError(uri.text, `unexpected path '${uri.path}' for the ${uri.driver} driver`, hint);
}

function modeOf(uri: LibvirtUri): 'auto' | 'legacy' | 'direct' {
  const mode = uriParam(uri, 'mode') ?? 'auto';
  if (mode !== 'auto' && mode !== 'legacy' && mode !== 'direct') {
    throw new UriError(uri.text, `mode '${mode}' is not auto, legacy or direct`, 'drop ?mode= or write ?mode=legacy');
  }
  return mode;
}

/** The daemon socket of a local URI: modular virt<driver>d when it exists (or mode=direct), else libvirtd's. */
function unixSocket(
  driver: string,
  scope: 'system' | 'session',
  readonly: boolean,
  mode: 'auto' | 'legacy' | 'direct',
  fx: HostEffects,
): string {
  // Session daemons have no read-only socket; libvirt then sends the read-only flag over the rw socket.
  const ro = readonly && scope === 'system' ? '-ro' : '';
  const dir = scope === 'system' ? '/run' : runtimeDir(fx);
  if (driver === 'guest') return `${dir}/guestd/guestd-sock${ro}`;
  const modular = `${dir}/libvirt/virt${driver}d-sock${ro}`;
  const legacy = `${dir}/libvirt/libvirt-sock${ro}`;
  if (mode === 'direct') return modular;
  if (mode === 'legacy') return legacy;
  return fx.exists(modular) ? modular : legacy;
}

function tlsTarget(uri: LibvirtUri, fx: HostEffects): Target {
  const port = uri.port ?? TLS_PORT;
  const host = uri.host ?? 'localhost';
  const pkipath = uriParam(uri, 'pkipath');
  if (pkipath) {
    return { transport: 'tls', host, port, caFile: `${pkipath}/cacert.pem`, certFile: `${pkipath}/clientcert.pem`, keyFile: `${pkipath}/clientkey.pem` };
  }
  const system = {
    caFile: '/etc/pki/CA/cacert.pem',
    certFile: '/etc/pki/libvirt/clientcert.pem',
    keyFile: '/etc/pki/libvirt/private/clientkey.pem',
  };
  if (fx.uid === 0) return { transport: 'tls', host, port, ...system };
  const dir = `${fx.home}/.pki/libvirt`;
  const user = { caFile: `${dir}/cacert.pem`, certFile: `${dir}/clientcert.pem`, keyFile: `${dir}/clientkey.pem` };
  // Like libvirt: a user without their own CA certificate falls back to the system's files, when those exist.
  const useSystem = !fx.exists(user.caFile) && fx.exists(system.caFile);
  return { transport: 'tls', host, port, ...(useSystem ? system : user) };
}

/** The name sent in CONNECT_OPEN: driver, path and the parameters meant for the daemon; `?name=` overrides. */
export function remoteName(uri: LibvirtUri): string {
  const name = uriParam(uri, 'name');
  if (name !== undefined) return name;
  return formatUri({ driver: uri.driver, path: uri.path, params: uri.params.filter((p) => !CLIENT_PARAMS.has(p.name)) });
}

function runtimeDir(fx: HostEffects): string {
  return fx.env.XDG_RUNTIME_DIR || `${fx.home}/.cache`;
}

function configHome(fx: HostEffects): string {
  return fx.env.XDG_CONFIG_HOME || `${fx.home}/.config`;
}
