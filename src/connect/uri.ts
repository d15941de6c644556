// libvirt connection URIs: `driver[+transport]://[user@][host][:port]/path[?params]`, or the literal `default`.
// Parsing only; what a URI connects to is decided in resolve.ts.
import { EXIT, GuestsError } from '../errors.js';

/** Transports libvirt's remote driver knows (`qemu+ssh://…`). */
const TRANSPORTS = ['unix', 'tls', 'tcp', 'ssh', 'libssh', 'libssh2', 'ext'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface UriParam {
  name: string;
  /** %XX-decoded */
  value: string;
}

export interface LibvirtUri {
  kind: 'uri';
  /** the text as given */
  text: string;
  driver: string;
  transport: Transport | null;
  user: string | null;
  /** without IPv6 brackets; null for a local URI (`qemu:///system`) */
  host: string | null;
  port: number | null;
  /** always starts with '/' ('/' when the URI has no path) */
  path: string;
  params: UriParam[];
}

/** `default`: let the connection-time rules (resolve.ts) pick the URI. */
interface DefaultUri {
  kind: 'default';
  text: 'default';
}

export type ParsedUri = LibvirtUri | DefaultUri;

/** A URI that cannot be parsed or resolved: a usage error (exit 2). */
export class UriError extends GuestsError {
  readonly uri: string;
  constructor(uri: string, message: string, hint: string) {
    super('uri', EXIT.USAGE, `invalid libvirt URI '${uri}': ${message}`, { hint });
    this.uri = uri;
  }
}

const EXAMPLES = "write it as driver[+transport]://[user@][host][:port]/path, e.g. 'qemu:///system'";

// scheme, then authority (user@host:port, host may be [v6]), then path, then query; libvirt ignores fragments.
const URI_RE = /^([A-Za-z][A-Za-z0-9.-]*)(?:\+([A-Za-z0-9]+))?:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/;

export function parseUri(text: string): ParsedUri {
  if (text === 'default') return { kind: 'default', text: 'default' };
  if (text.trim() === '') throw new UriError(text, 'the URI is empty', `${EXAMPLES}, or 'default'`);
  if (/\s/.test(text)) throw new UriError(text, 'it contains white space', `remove it or write it as %20; ${EXAMPLES}`);
  const m = URI_RE.exec(text);
  if (!m) {
    const hint = /^[A-Za-z][\w.+-]*:\/?[^/]/.test(text)
      ? `a local URI has three slashes: '${text.replace(/:\/*/, ':///')}'`
      : EXAMPLES;
    throw new UriError(text, 'it is not of the form driver[+transport]://…', hint);
  }
  const driver = m[1]!;
  const transportText = m[2];
  const authority = m[3] ?? '';
  const rawPath = m[4] ?? '';
  const query = m[5];
  let transport: Transport | null = null;
  if (transportText !== undefined) {
    const t = transportText.toLowerCase();
    if (!(TRANSPORTS as readonly string[]).includes(t)) {
      throw new UriError(text, `unknown transport '+${transportText}'`, `use one of ${TRANSPORTS.map((x) => `+${x}`).join(', ')}`);
    }
    transport = t as Transport;
  }
  const { user, host, port } = parseAuthority(text, authority);
  return {
    kind: 'uri',
    text,
    driver: driver.toLowerCase(),
    transport,
    user,
    host,
    port,
    path: rawPath === '' ? '/' : decode(text, rawPath),
    params: query === undefined ? [] : parseQuery(text, query),
  };
}

function parseAuthority(text: string, authority: string): { user: string | null; host: string | null; port: number | null } {
  let rest = authority;
  let user: string | null = null;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = decode(text, rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new UriError(text, "an IPv6 address is missing its closing ']'", "write the host as '[::1]'");
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw new UriError(text, `unexpected '${after}' after the IPv6 address`, EXAMPLES);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    portText = colon < 0 ? undefined : rest.slice(colon + 1);
  }
  let port: number | null = null;
  if (portText !== undefined && portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535 || Number(portText) === 0) {
      throw new UriError(text, `port '${portText}' is not a number from 1 to 65535`, 'write host:port, e.g. host:16514');
    }
    port = Number(portText);
  }
  return { user, host: host === '' ? null : decode(text, host), port };
}

function parseQuery(text: string, query: string): UriParam[] {
  // libvirt accepts both '&' and ';' between parameters
  return query
    .split(/[&;]/)
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = decode(text, eq < 0 ? part : part.slice(0, eq));
      const value = eq < 0 ? '' : decode(text, part.slice(eq + 1));
      return { name, value };
    });
}

function decode(text: string, s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new UriError(text, `bad %-escape in '${s}'`, "escape '%' itself as %25");
  }
}

/** The value of the last parameter with that name (libvirt lets later ones win), or undefined. */
export function uriParam(uri: LibvirtUri, name: string): string | undefined {
  let value: string | undefined;
  for (const p of uri.params) if (p.name === name) value = p.value;
  return value;
}

/** Format a URI back to text; parameter values are escaped the way libvirt does (RFC 3986 unreserved kept, '/' too). */
export function formatUri(parts: {
  driver: string;
  transport?: Transport | null;
  user?: string | null;
  host?: string | null;
  port?: number | null;
  path: string;
  params?: UriParam[];
}): string {
  const scheme = parts.transport ? `${parts.driver}+${parts.transport}` : parts.driver;
  const host = parts.host ? (parts.host.includes(':') ? `[${parts.host}]` : parts.host) : '';
  const user = parts.user ? `${encodeURIComponent(parts.user)}@` : '';
  const port = parts.port ? `:${parts.port}` : '';
  const query = parts.params?.length
    ? `?${parts.params.map((p) => `${escapeParam(p.name)}=${escapeParam(p.value)}`).join('&')}`
    : '';
  return `${scheme}://${user}${host}${port}${parts.path}${query}`;
}

function escapeParam(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/');
}
