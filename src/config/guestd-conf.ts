// guestd.conf: libvirtd.conf's syntax (libvirt's virconf), read as data and never executed.
//   key = value        value: "string" (or 'string'), integer, or a list [ "a", "b" ] that may span lines
//   # comment          to the end of the line, outside strings
// Every key is validated; an unknown key or a bad value is a ConfigError naming file:line, the key, the value and
// what is allowed. `null` in GuestdConfig means "not set: use the built-in default" (which depends on root/non-root).
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { LEN_SIZE, MESSAGE_MAX } from '../rpc/message.js';
import { DEFAULT_CLIENT_LIMITS } from '../rpc/server.js';

export interface GuestdConfig {
  unixSockDir: string | null;
  unixSockGroup: string | null;
  unixSockRoPerms: number;
  unixSockRwPerms: number;
  unixSockAdminPerms: number;
  /** only used with -l/--listen */
  listenTls: boolean;
  listenAddr: string | null;
  tlsPort: number;
  keyFile: string | null;
  certFile: string | null;
  caFile: string | null;
  /** glob patterns matched against the client certificate's subject DN; null: any CA-signed client */
  tlsAllowedDnList: string[] | null;
  /** 1 debug, 2 info, 3 warning, 4 error */
  logLevel: number;
  stateDir: string | null;
  /** libvirtd's processing limits (libvirtd.conf), and the input budget */
  maxClients: number;
  maxQueuedClients: number;
  /** TLS clients still in their handshake (not yet authenticated); 0: no limit */
  maxAnonymousClients: number;
  maxClientRequests: number;
  maxBufferedInput: number;
}

export const DEFAULT_GUESTD_CONFIG: Readonly<GuestdConfig> = Object.freeze({
  unixSockDir: null,
  unixSockGroup: null,
  unixSockRoPerms: 0o777,
  unixSockRwPerms: 0o700,
  unixSockAdminPerms: 0o700,
  listenTls: true,
  listenAddr: null,
  tlsPort: 16514,
  keyFile: null,
  certFile: null,
  caFile: null,
  tlsAllowedDnList: null,
  logLevel: 3,
  stateDir: null,
  maxClients: DEFAULT_CLIENT_LIMITS.maxClients,
  maxQueuedClients: DEFAULT_CLIENT_LIMITS.maxQueuedClients,
  maxAnonymousClients: 20,
  maxClientRequests: DEFAULT_CLIENT_LIMITS.maxClientRequests,
  maxBufferedInput: DEFAULT_CLIENT_LIMITS.maxBufferedInput,
});

type ConfValue = { kind: 'string'; value: string } | { kind: 'int'; value: number } | { kind: 'list'; value: string[] };

interface Entry {
  key: string;
  value: ConfValue;
  line: number;
}

interface KeySpec {
  field: keyof GuestdConfig;
  allowed: string;
  convert(value: ConfValue): GuestdConfig[keyof GuestdConfig] | undefined;
}

const asString = (v: ConfValue): string | undefined => (v.kind === 'string' ? v.value : undefined);
const asPath = (v: ConfValue): string | undefined => (v.kind === 'string' && v.value.startsWith('/') ? v.value : undefined);
const asPerms = (v: ConfValue): number | undefined =>
  v.kind === 'string' && /^0?[0-7]{3}$/.test(v.value) ? parseInt(v.value, 8) : undefined;
const asBool = (v: ConfValue): boolean | undefined =>
  v.kind === 'int' && (v.value === 0 || v.value === 1) ? v.value === 1 : undefined;
const intAtLeast =
  (min: number) =>
  (v: ConfValue): number | undefined =>
    v.kind === 'int' && Number.isSafeInteger(v.value) && v.value >= min ? v.value : undefined;

const KEYS: Record<string, KeySpec> = {
  unix_sock_dir: { field: 'unixSockDir', allowed: 'an absolute path in double quotes', convert: asPath },
  unix_sock_group: {
    field: 'unixSockGroup',
    allowed: 'a group name or number in double quotes',
    convert: (v) => (v.kind === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(v.value) ? v.value : undefined),
  },
  unix_sock_ro_perms: { field: 'unixSockRoPerms', allowed: 'octal permissions in double quotes, e.g. "0777"', convert: asPerms },
  unix_sock_rw_perms: { field: 'unixSockRwPerms', allowed: 'octal permissions in double quotes, e.g. "0770"', convert: asPerms },
  unix_sock_admin_perms: {
    field: 'unixSockAdminPerms',
    allowed: 'octal permissions in double quotes, e.g. "0700"',
    convert: asPerms,
  },
  listen_tls: { field: 'listenTls', allowed: '0 or 1', convert: asBool },
  listen_addr: { field: 'listenAddr', allowed: 'a host name or IP address in double quotes', convert: asString },
  tls_port: {
    field: 'tlsPort',
    allowed: 'a TCP port 1-65535, e.g. "16514"',
    convert: (v) => {
      const n = v.kind === 'int' ? v.value : v.kind === 'string' && /^\d+$/.test(v.value) ? Number(v.value) : NaN;
      return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
    },
  },
  key_file: { field: 'keyFile', allowed: 'an absolute path in double quotes', convert: asPath },
  cert_file: { field: 'certFile', allowed: 'an absolute path in double quotes', convert: asPath },
  ca_file: { field: 'caFile', allowed: 'an absolute path in double quotes', convert: asPath },
  tls_allowed_dn_list: {
    field: 'tlsAllowedDnList',
    allowed: 'a list of double-quoted DN patterns, e.g. ["C=GB,O=Example,CN=*"]',
    convert: (v) => (v.kind === 'list' ? v.value : undefined),
  },
  log_level: {
    field: 'logLevel',
    allowed: '1 (debug), 2 (info), 3 (warning) or 4 (error)',
    convert: (v) => (v.kind === 'int' && v.value >= 1 && v.value <= 4 ? v.value : undefined),
  },
  state_dir: { field: 'stateDir', allowed: 'an absolute path in double quotes', convert: asPath },
  max_clients: { field: 'maxClients', allowed: 'an integer ≥ 1, e.g. 5000', convert: intAtLeast(1) },
  max_queued_clients: { field: 'maxQueuedClients', allowed: 'an integer ≥ 0, e.g. 1000', convert: intAtLeast(0) },
  max_anonymous_clients: {
    field: 'maxAnonymousClients',
    allowed: 'an integer ≥ 0 (0: no limit), e.g. 20',
    convert: intAtLeast(0),
  },
  max_client_requests: { field: 'maxClientRequests', allowed: 'an integer ≥ 1, e.g. 5', convert: intAtLeast(1) },
  max_buffered_input: {
    field: 'maxBufferedInput',
    allowed: `a number of bytes ≥ ${MESSAGE_MAX + LEN_SIZE} (one message of libvirt's largest size), e.g. ${DEFAULT_CLIENT_LIMITS.maxBufferedInput}`,
    convert: intAtLeast(MESSAGE_MAX + LEN_SIZE),
  },
};

export const GUESTD_CONF_KEYS: readonly string[] = Object.keys(KEYS);

/** Parse and validate the text of a guestd.conf. `file` is only used in messages. */
export function parseGuestdConf(text: string, file: string): GuestdConfig {
  const config: GuestdConfig = { ...DEFAULT_GUESTD_CONFIG };
  const seen = new Map<string, number>();
  for (const entry of tokenize(text, file)) {
    const spec = KEYS[entry.key];
    if (!spec) {
      throw new ConfigError(
        `unknown setting '${entry.key}'`,
        { file, line: entry.line, variable: entry.key },
        { hint: `Known settings: ${GUESTD_CONF_KEYS.join(', ')}.` },
      );
    }
    const previous = seen.get(entry.key);
    if (previous !== undefined) {
      throw new ConfigError(`'${entry.key}' is already set on line ${previous}`, {
        file,
        line: entry.line,
        variable: entry.key,
      });
    }
    seen.set(entry.key, entry.line);
    const converted = spec.convert(entry.value);
    if (converted === undefined) {
      throw new ConfigError(
        `invalid value ${render(entry.value)} for '${entry.key}': expected ${spec.allowed}`,
        { file, line: entry.line, variable: entry.key },
      );
    }
    (config as unknown as Record<string, unknown>)[spec.field] = converted;
  }
  return config;
}

/** Read and parse a config file. A missing file gives the defaults only when `optional` (the default path). */
export function loadGuestdConf(file: string, options: { optional: boolean }): GuestdConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (options.optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return { ...DEFAULT_GUESTD_CONFIG };
    throw new ConfigError(
      `cannot read the configuration file: ${(error as Error).message}`,
      { file },
      { cause: error, hint: 'Check the path given with -f/--config.' },
    );
  }
  return parseGuestdConf(text, file);
}

/** The settings that differ between two configs, as "key: old → new" lines (for the SIGHUP log). */
export function describeConfigChanges(before: GuestdConfig, after: GuestdConfig): string[] {
  const changes: string[] = [];
  for (const [key, spec] of Object.entries(KEYS)) {
    const a = JSON.stringify(before[spec.field]);
    const b = JSON.stringify(after[spec.field]);
    if (a !== b) changes.push(`${key}: ${a} → ${b}`);
  }
  return changes;
}

function render(value: ConfValue): string {
  if (value.kind === 'list') return `[${value.value.map((s) => JSON.stringify(s)).join(', ')}]`;
  return value.kind === 'string' ? JSON.stringify(value.value) : String(value.value);
}

/** A small scanner over virconf's grammar. */
function* tokenize(text: string, file: string): Generator<Entry> {
  let pos = 0;
  let line = 1;
  const fail = (message: string, at = line, variable?: string): never => {
    throw new ConfigError(message, { file, line: at, ...(variable ? { variable } : {}) });
  };
  const skipBlank = (newlines: boolean): void => {
    while (pos < text.length) {
      const c = text[pos];
      if (c === ' ' || c === '\t' || c === '\r') pos++;
      else if (c === '#') while (pos < text.length && text[pos] !== '\n') pos++;
      else if (c === '\n' && newlines) {
        pos++;
        line++;
      } else break;
    }
  };
  const readString = (key: string): string => {
    const quote = text[pos];
    const start = line;
    pos++;
    let out = '';
    while (pos < text.length && text[pos] !== quote) {
      if (text[pos] === '\n') fail(`unterminated string for '${key}'`, start, key);
      out += text[pos++];
    }
    if (pos >= text.length) fail(`unterminated string for '${key}'`, start, key);
    pos++;
    return out;
  };
  const readValue = (key: string): ConfValue => {
    const c = text[pos];
    if (c === '"' || c === "'") return { kind: 'string', value: readString(key) };
    if (c === '[') {
      const start = line;
      pos++;
      const items: string[] = [];
      while (true) {
        skipBlank(true);
        if (pos >= text.length) fail(`unterminated list for '${key}': missing ']'`, start, key);
        if (text[pos] === ']') {
          pos++;
          return { kind: 'list', value: items };
        }
        if (text[pos] !== '"' && text[pos] !== "'") fail(`list items of '${key}' must be quoted strings`, line, key);
        items.push(readString(key));
        skipBlank(true);
        if (pos >= text.length) fail(`unterminated list for '${key}': missing ']'`, start, key);
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ']') fail(`expected ',' or ']' in the list for '${key}'`, line, key);
      }
    }
    const m = /^[+-]?\d+/.exec(text.slice(pos, pos + 32));
    if (m) {
      pos += m[0].length;
      return { kind: 'int', value: Number(m[0]) };
    }
    const word = /^[^\s#]*/.exec(text.slice(pos))?.[0] ?? '';
    return fail(
      `invalid value '${word}' for '${key}': strings must be in double quotes, numbers plain, lists in [ ]`,
      line,
      key,
    );
  };

  while (true) {
    skipBlank(true);
    if (pos >= text.length) return;
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(pos, pos + 256));
    if (!m) fail(`expected 'key = value', found '${text.slice(pos).split('\n')[0]}'`);
    const key = m![0];
    const at = line;
    pos += key.length;
    skipBlank(false);
    if (text[pos] !== '=') fail(`expected '=' after '${key}'`, at, key);
    pos++;
    skipBlank(false);
    if (pos >= text.length || text[pos] === '\n') fail(`missing value for '${key}'`, at, key);
    const value = readValue(key);
    skipBlank(false);
    if (text[pos] === ';') pos++;
    skipBlank(false);
    if (pos < text.length && text[pos] !== '\n') fail(`unexpected text after the value of '${key}'`, line, key);
    yield { key, value, line: at };
  }
}
