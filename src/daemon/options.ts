// guestd's command line, after libvirtd(8). Pure: argv in, options (or a UsageError) out.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

export interface DaemonOptions {
  help: boolean;
  version: boolean;
  daemon: boolean;
  configFile: string | null;
  listen: boolean;
  pidFile: string | null;
  /** seconds; 0 = never exit on idle */
  timeout: number;
  verbose: boolean;
}

export const HELP_TEXT = `Usage:
  guestd [options]

Options:
  -h | --help            Display program help.
  -v | --verbose         Verbose messages.
  -d | --daemon          Run as a daemon & write PID file.
  -l | --listen          Listen for TCP/IP connections (TLS, per listen_tls/tls_port in the config).
  -t | --timeout <secs>  Exit after timeout period, provided there are neither any client
                         connections nor any running guests.
  -f | --config <file>   Configuration file.
  -p | --pid-file <file> Change name of PID file.
  --version              Display version information.

libvirt management daemon for process guests:

  Default paths (as root):
    Configuration file:      /etc/guestd/guestd.conf
    Sockets:                 /run/guestd/guestd-sock, guestd-sock-ro, guestd-admin-sock
    TLS:                     CA /etc/pki/CA/cacert.pem
                             certificate /etc/pki/guestd/servercert.pem
                             private key /etc/pki/guestd/private/serverkey.pem
    PID file:                /run/guestd.pid
    State:                   /var/lib/guestd

  Default paths (as an ordinary user):
    Configuration file:      $XDG_CONFIG_HOME/guestd/guestd.conf
    Sockets:                 $XDG_RUNTIME_DIR/guestd/guestd-sock
    TLS:                     $HOME/.pki/guestd/{cacert,servercert,serverkey}.pem
    PID file:                $XDG_RUNTIME_DIR/guestd/guestd.pid
    State:                   $XDG_STATE_HOME/guestd
  ($XDG_CONFIG_HOME defaults to $HOME/.config, $XDG_RUNTIME_DIR to $HOME/.cache,
   $XDG_STATE_HOME to $HOME/.local/state)

Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT stop the daemon and leave every guest running.
`;

export function parseDaemonOptions(argv: readonly string[]): DaemonOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        daemon: { type: 'boolean', short: 'd' },
        config: { type: 'string', short: 'f' },
        listen: { type: 'boolean', short: 'l' },
        'pid-file': { type: 'string', short: 'p' },
        timeout: { type: 'string', short: 't' },
        verbose: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message, { hint: "Try 'guestd --help'." });
  }
  const v = parsed.values;
  let timeout = 0;
  if (v.timeout !== undefined) {
    if (!/^\d+$/.test(v.timeout) || Number(v.timeout) > 0x7fffffff) {
      throw new UsageError(`invalid timeout '${v.timeout}': expected a whole number of seconds`, {
        hint: "e.g. 'guestd -t 120'; 0 disables the timeout.",
      });
    }
    timeout = Number(v.timeout);
  }
  for (const [flag, value] of [
    ['--config', v.config],
    ['--pid-file', v['pid-file']],
  ] as const) {
    if (value === '') throw new UsageError(`${flag} needs a file name`);
  }
  return {
    help: v.help ?? false,
    version: v.version ?? false,
    daemon: v.daemon ?? false,
    configFile: v.config ?? null,
    listen: v.listen ?? false,
    pidFile: v['pid-file'] ?? null,
    timeout,
    verbose: v.verbose ?? false,
  };
}
