// The four man pages, generated from what the programs themselves know: the commands' descriptions, flags and
// examples (oclif's manifest), the variables table and the distribution profiles, the shipped configuration files'
// comments, guestd's --help text and guestctl's command table. Only the connecting prose is written here.
import { CONFIG_CANDIDATES, CONFIG_ENV } from '../../src/config/sysconfig.js';
import { PROFILE_ENV, OS_RELEASE_FILES, profile, profileNames } from '../../src/config/distribution.js';
import { DEFAULT_LIST_FILE, LIST_FILE_ENV, LOCK_FILE_ENV } from '../../src/config/paths.js';
import { VARIABLES } from '../../src/config/variables.js';
import { GUESTD_CONF_KEYS } from '../../src/config/guestd-conf.js';
import { BACKEND_ENV } from '../../src/cli/flags.js';
import { noActionFlags } from '../../src/cli/parse-error.js';
import { HELP_TEXT } from '../../src/daemon/options.js';
import { GLOBAL_OPTIONS, GROUPS } from '../../src/guestctl/command.js';
import { synopsis } from '../../src/guestctl/help.js';
import { COMMANDS } from '../../src/guestctl/table.js';
import { runLockPath } from '../../src/orchestrator/services.js';
import { EXIT, type ExitCode } from '../../src/errors.js';
import { documentedSettings } from './commented-config.js';
import { ManPage } from './roff.js';

/** What oclif's manifest (oclif.manifest.json) says about one command. */
export interface ManifestCommand {
  id: string;
  summary?: string;
  description?: string;
  examples?: (string | { command: string; description?: string })[];
  hidden?: boolean;
  /** the commands without --dry-run, --backend and --quiet say why (src/cli/base-command.ts) */
  whyNoActionFlags?: string;
  flags: Record<string, { name: string; char?: string; description?: string; helpValue?: string; options?: string[]; type: 'option' | 'boolean'; default?: unknown; env?: string }>;
}

export interface DocsInput {
  version: string;
  commands: ManifestCommand[];
  /** the text of sysconfig/libvirt-guests and sysconfig/guestd.conf */
  guestsConfig: string;
  guestdConfig: string;
}

const SOURCE = (version: string): string => `libvirt-guests-ts ${version}`;

/** What each exit status means; typed by the codes, so a new code cannot go undocumented. */
const GUESTS_EXIT: Record<ExitCode, string> = {
  [EXIT.OK]: 'Success: every guest was handled, every URI reached; status: the service is started.',
  [EXIT.FAILURE]: 'A guest could not be handled (a save or shutdown failed or timed out, a start failed), a URI could not be reached, or another run held the run lock for longer than LOCK_TIMEOUT.',
  [EXIT.USAGE]: 'Wrong usage: an unknown command or flag, a bad flag value.',
  [EXIT.NOT_RUNNING]: 'status only: the service is stopped (with or without saved guests), as LSB status codes say.',
  [EXIT.STATUS_UNKNOWN]: 'status only: the status cannot be told (wrong usage, an unusable configuration); status exits with LSB\'s status codes only, so this replaces 1, 2 and 6 there.',
  [EXIT.NOT_CONFIGURED]: 'The configuration cannot be used: the file does not exist, cannot be read, or has an invalid line (the message names file:line, the variable and what is allowed).',
};

function flagTerm(f: ManifestCommand['flags'][string]): string {
  const value = f.type === 'option' ? ` ${f.options ? f.options.join('|') : (f.helpValue ?? 'VALUE')}` : '';
  return `${f.char ? `-${f.char}, ` : ''}--${f.name}${value}`;
}

function flagText(f: ManifestCommand['flags'][string]): string {
  const extra = [f.default !== undefined && f.type === 'option' ? `Default: ${String(f.default)}.` : '', f.env ? `Also $${f.env}.` : ''];
  const description = (f.description ?? '').replace(/([^.])$/, '$1.');
  return [description, ...extra].filter(Boolean).join(' ');
}

function example(e: string | { command: string }, bin: string, id: string): string {
  return (typeof e === 'string' ? e : e.command).replaceAll('<%= config.bin %>', bin).replaceAll('<%= command.id %>', id);
}

function libvirtGuestsPage(input: DocsInput): string {
  // ids as typed: a topic and its command separated by a space (`policy show`; oclif's id says `policy:show`)
  const commands = input.commands
    .filter((c) => !c.hidden && c.id !== 'help')
    .map((c) => ({ ...c, id: c.id.replaceAll(':', ' ') }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const words = [...new Set(commands.map((c) => c.id.split(' ')[0]!))];
  // the base flags are those every command has
  const base = Object.keys(commands[0]!.flags).filter((name) => commands.every((c) => name in c.flags));
  const upstream = profile('upstream', '');
  const debian = profile('debian', '');
  const documented = documentedSettings(input.guestsConfig);
  const page = new ManPage('libvirt-guests', 8, SOURCE(input.version), 'System Administration');
  page.section('name').raw('libvirt\\-guests \\- suspend or shut down libvirt guests when the host shuts down, bring them back when it boots');
  page.section('synopsis').raw(`.B libvirt\\-guests`, `.RI { ${words.map((w) => w.replace(/-/g, '\\-')).join(' | ')} }`, `.RI [ options ]`);
  page.section('description').paragraph(
    'A drop-in for libvirt\'s libvirt-guests service. Run by systemd (libvirt-guests.service: ExecStart= start, ExecStop= stop) when the host boots and shuts down:',
    'stop records which guests run in the list file, then saves their memory (managed save) or shuts them down; start restores or starts the guests of the list.',
    'The configuration is read, never executed, on every run.',
    'It talks to libvirtd, virtqemud and guestd(8) with libvirt\'s own RPC protocol (virsh for transports it does not speak).',
  );
  page.paragraph('Progress goes to standard error: one plain line per event (the original\'s wording where it had one), or a task list on a terminal. Results go to standard output, as text or with --json as one JSON object.');
  page.section('commands');
  for (const c of commands) {
    const own = Object.values(c.flags).filter((f) => !base.includes(f.name));
    const description = [c.summary, c.description].filter(Boolean).join(' ');
    page.item(c.id, `${description}${own.length ? ` Options: ${own.map(flagTerm).join(', ')}.` : ''}`);
  }
  page.section('options').paragraph('Every command takes these:');
  for (const name of base) page.item(flagTerm(commands[0]!.flags[name]!), flagText(commands[0]!.flags[name]!));
  page.item('-h, --help', 'Show the help of the program or of a command.');
  const stop = commands.find((c) => c.id === 'stop')!;
  const actionFlags = Object.values(stop.flags).filter((f) => !base.includes(f.name));
  const acting = commands.filter((c) => actionFlags.every((f) => f.name in c.flags));
  page.paragraph(`${acting.map((c) => c.id).join(', ')} also take:`);
  for (const f of actionFlags) page.item(flagTerm(f), flagText(f));
  for (const c of commands.filter((x) => !acting.includes(x))) page.paragraph(`${c.id} ${noActionFlags(c.whyNoActionFlags ?? '')}.`);

  page.section('configuration').paragraph(
    `Looked up in this order: --config FILE, $${CONFIG_ENV}, then the first that exists of ${CONFIG_CANDIDATES.join(', ')}; with none, every default applies.`,
    'Lines are NAME=value (export, quotes and comments allowed); anything that would need a shell is refused with file:line (exit 6), and so is any value outside the allowed ones.',
    'Unknown names are warned about with the nearest known one. "libvirt-guests reload" checks an edited file and shows every setting with where its value comes from.',
  );
  let currentSection: string | undefined;
  for (const v of VARIABLES) {
    const doc = documented.settings.find((s) => s.name === v.name);
    if (doc?.section && doc.section !== currentSection) {
      currentSection = doc.section;
      page.subsection(doc.section);
    }
    const debianDefault = debian.defaults[v.name];
    const defaults = debianDefault !== undefined ? `Default: ${v.defaultText} (upstream), ${debianDefault} (Debian).` : `Default: ${v.defaultText}.`;
    page.item(`${v.name}=`, `${doc?.text ?? ''} ${defaults}`);
  }

  page.section('distribution defaults').paragraph(
    `Debian patches libvirt-guests.sh: there, and on its derivatives (ID or ID_LIKE in ${OS_RELEASE_FILES.join(' or ')} names debian), the defaults and the lock file are Debian's; elsewhere upstream's.`,
    `$${PROFILE_ENV} names the profile instead: auto (the default), ${profileNames.join(', ')}.`,
  );
  for (const name of profileNames) {
    const p = profile(name, '');
    const values = VARIABLES.filter((v) => p.defaults[v.name] !== undefined).map((v) => `${v.name}=${p.defaults[v.name]}`);
    page.item(p.title, `${values.length ? `${values.join(', ')}; ` : 'every default as listed above; '}lock file ${p.lockFile}.`);
  }

  page.section('exit status');
  for (const [code, meaning] of Object.entries(GUESTS_EXIT)) page.item(code, meaning);

  page.section('environment');
  page.item(CONFIG_ENV, 'The configuration file, when --config is not given.');
  page.item(LIST_FILE_ENV, `The list file, when --list-file is not given (default ${DEFAULT_LIST_FILE}).`);
  page.item(LOCK_FILE_ENV, `The service lock file, when --lock-file is not given (default ${debian.lockFile} on Debian, ${upstream.lockFile} elsewhere).`);
  page.item(PROFILE_ENV, `Whose defaults apply: auto, ${profileNames.join(', ')} (see DISTRIBUTION DEFAULTS).`);
  page.item(BACKEND_ENV, 'How to talk to libvirt, when --backend is not given: auto, native or virsh.');
  page.item('LIBVIRT_DEFAULT_URI', 'What the URI "default" means, as for virsh; then uri_default in libvirt.conf, then the local daemon sockets.');
  page.item('NOTIFY_SOCKET', 'Set by systemd: a long stop reports its progress (STATUS=) and asks for more time (EXTEND_TIMEOUT_USEC=) every 10 seconds, never past STOP_DEADLINE plus 15 seconds.');
  page.item('NO_COLOR', 'No colours in the task list on a terminal.');

  page.section('files');
  for (const file of CONFIG_CANDIDATES) page.item(file, 'The configuration (the first that exists).');
  page.item(DEFAULT_LIST_FILE, 'The list file: one line per URI, "URI UUID UUID ...", the guests a stop found running, for the next start. Written by the original too, and read by either.');
  page.item(upstream.lockFile, 'The service lock (upstream): exists while the service is started.');
  page.item(debian.lockFile, 'The service lock on Debian.');
  page.item(runLockPath(DEFAULT_LIST_FILE), 'The run lock that keeps two runs (systemd\'s stop, a cron job) apart: pid and process start time of its holder.');
  page.item('/usr/share/doc/libvirt-guests-ts/examples/libvirt-guests', 'The commented configuration file, every setting at its default (Debian package).');
  page.item('/lib/systemd/system/libvirt-guests.service', 'The unit: ExecStart= start, ExecStop= stop, ordered after the libvirt daemons and guestd so that they outlive the stop.');

  page.section('examples');
  page.literal(commands.flatMap((c) => (c.examples ?? []).map((e) => example(e, 'libvirt-guests', c.id))));
  page.section('see also').raw('.BR guestd (8),', '.BR guestctl (1),', '.BR guestd.conf (5),', '.BR virsh (1),', '.BR systemctl (1),', '.BR os\\-release (5)');
  return page.render();
}

/** guestd's --help: option lines ("  -h | --help   text"), continuation lines, and the paragraphs after them. */
function daemonHelp(): { options: { term: string; text: string }[]; rest: string[] } {
  const lines = HELP_TEXT.split('\n');
  const options: { term: string; text: string }[] = [];
  let i = lines.indexOf('Options:') + 1;
  for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
    const m = /^ {2}((?:-\w \| )?--[\w-]+(?: <\w+>)?)\s+(\S.*)$/.exec(lines[i]!);
    if (m) options.push({ term: m[1]!.replace(/ \| /g, ', ').replace(/<(\w+)>/g, '$1'), text: m[2]! });
    else options.at(-1)!.text += ` ${lines[i]!.trim()}`;
  }
  return { options, rest: lines.slice(i + 1) };
}

function guestdPage(input: DocsInput): string {
  const help = daemonHelp();
  const page = new ManPage('guestd', 8, SOURCE(input.version), 'System Administration');
  page.section('name').raw('guestd \\- management daemon for process guests, speaking libvirt\'s RPC protocol');
  page.section('synopsis').raw('.B guestd', `.RI [ ${help.options.map((o) => o.term.split(', ')[0]!.replace(/-/g, '\\-')).join(' | ')} ]`);
  page.section('description').paragraph(
    'A small libvirtd: it keeps process guests (ordinary processes holding real memory, with a clock) and serves them over libvirt\'s own RPC protocol on unix sockets (and TLS with -l), so that real virsh, libvirt-guests(8) and guestctl(1) drive it like libvirtd.',
    'Guests run in their own sessions and survive a stop, restart or crash of the daemon; on start it reconnects only to live guest processes whose start time matches.',
    'Under systemd it is socket-activated (guestd.socket, guestd-ro.socket, guestd-admin.socket) and reports readiness with READY=1.',
  );
  page.section('options');
  for (const o of help.options) page.item(o.term, o.text);
  const paths = help.rest.filter((l) => l.trim() !== '' && l.startsWith(' '));
  page.section('files').paragraph('Paths, as guestd --help prints them:').literal(paths.map((l) => l.replace(/^ {2}/, '')));
  page.section('signals').paragraph(help.rest.find((l) => l.startsWith('Signals:'))!.replace(/^Signals:\s*/, ''));
  page.section('exit status');
  page.item('0', 'Stopped by a signal, or -h/--version.');
  page.item('1', 'A failure at run time (a socket cannot be bound, the state directory cannot be used).');
  page.item('2', 'Wrong usage: an unknown option or a bad value.');
  page.item('6', 'The configuration file is invalid (file:line, the key and what is allowed are named).');
  page.section('environment');
  page.item('LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES', 'Sockets passed by systemd (socket activation); FileDescriptorName= tells which is which.');
  page.item('NOTIFY_SOCKET', 'Set by systemd for Type=notify: READY=1 and STATUS= are sent in the daemon\'s own name (NotifyAccess=main).');
  page.item('XDG_CONFIG_HOME, XDG_RUNTIME_DIR, XDG_STATE_HOME', 'Where a daemon that does not run as root keeps its configuration, sockets and state.');
  page.section('examples').literal([
    'systemctl enable --now guestd.socket guestd-ro.socket guestd-admin.socket',
    'guestd -d -v',
    'virsh -c guest:///system list --all',
    "virsh -c 'guest+unix:///system?socket=/run/guestd/guestd-sock' list",
  ]);
  page.section('see also').raw('.BR guestd.conf (5),', '.BR guestctl (1),', '.BR libvirt\\-guests (8),', '.BR libvirtd (8),', '.BR virsh (1)');
  return page.render();
}

export function guestdConfPage(input: DocsInput): string {
  const doc = documentedSettings(input.guestdConfig);
  const missing = GUESTD_CONF_KEYS.filter((k) => !doc.settings.some((s) => s.name === k));
  if (missing.length) throw new Error(`sysconfig/guestd.conf does not document ${missing.join(', ')}`);
  const page = new ManPage('guestd.conf', 5, SOURCE(input.version), 'File Formats');
  page.section('name').raw('guestd.conf \\- settings of the guestd daemon');
  page.section('synopsis').raw('.I /etc/guestd/guestd.conf', '.br', '.I $XDG_CONFIG_HOME/guestd/guestd.conf');
  page.section('description');
  // the opening comment without its title line and the locations (SYNOPSIS and FILES have those)
  for (const lines of doc.intro.slice(1).filter((p) => !p[0]!.startsWith('Location:'))) page.mixed(lines);
  page.section('settings');
  let currentSection: string | undefined;
  for (const s of doc.settings) {
    if (s.section && s.section !== currentSection) {
      currentSection = s.section;
      const text = doc.sections.find((x) => x.title === s.section)?.text ?? '';
      page.subsection(s.section).paragraph(text);
    }
    page.item(s.example, s.text);
  }
  page.section('environment').item('XDG_CONFIG_HOME', 'A daemon that does not run as root reads $XDG_CONFIG_HOME/guestd/guestd.conf ($HOME/.config when unset).');
  page.section('files').item('/etc/guestd/guestd.conf', 'The system daemon\'s file (guestd -f FILE names another).').item('/etc/default/guestd', 'GUESTD_ARGS: options for guestd.service.');
  page.section('examples').paragraph('Members of the group libvirt manage guests without being root; the daemon logs at info level:').literal([
    'unix_sock_group = "libvirt"',
    'unix_sock_rw_perms = "0770"',
    'log_level = 2',
  ]);
  page.paragraph('Apply an edited file (a wrong one keeps the running settings, and the journal says why):').literal(['systemctl reload guestd && journalctl -u guestd -n 5']);
  page.section('see also').raw('.BR guestd (8),', '.BR libvirtd.conf (5)');
  return page.render();
}

function guestctlPage(input: DocsInput): string {
  const page = new ManPage('guestctl', 1, SOURCE(input.version), 'User Commands');
  page.section('name').raw('guestctl \\- a virsh\\-like client for guestd and libvirtd');
  page.section('synopsis').raw('.B guestctl', '.RI [ options ]', '.I command', '.RI [ \\-\\-option ...]', '.RI [ arguments ]');
  page.section('description').paragraph(
    'Sets up and inspects guests on guestd(8) (a bare machine without libvirt) and on libvirtd alike, over libvirt\'s RPC protocol, with virsh\'s command names and output.',
    'Commands that read take --json for one JSON value on standard output.',
    'guestctl help COMMAND (or guestctl COMMAND --help, or -h) prints the options of a command, guestctl help GROUP the commands of a group.',
  );
  page.section('options');
  for (const o of GLOBAL_OPTIONS) page.item(`-${o.short}, --${o.long}${'value' in o ? ` ${o.value}` : ''}`, `${o.help[0]!.toUpperCase()}${o.help.slice(1)}.`);
  page.section('commands');
  for (const group of GROUPS) {
    page.subsection(`${group.title} (help keyword '${group.keyword}')`);
    for (const c of COMMANDS.filter((x) => x.group === group.keyword)) {
      const options = [...c.args.map((a) => `<${a.name}>: ${a.help}`), ...c.options.map((o) => `--${o.name}: ${o.help}`)];
      page.item(synopsis(c), `${c.description}${options.length ? ` (${options.join('; ')}.)` : ''}`);
    }
  }
  page.section('exit status')
    .item(String(EXIT.OK), 'Success.')
    .item(String(EXIT.FAILURE), 'The command failed (the daemon\'s error is printed), or help was asked about a command or group that does not exist (as virsh).')
    .item(String(EXIT.USAGE), 'Wrong usage: an unknown command or option, a missing argument.');
  page.section('environment').item('LIBVIRT_DEFAULT_URI', 'The connection when -c is not given.');
  page.section('files');
  page.item('/etc/libvirt/libvirt.conf', 'uri_default: the connection when neither -c nor $LIBVIRT_DEFAULT_URI is given (as root; $XDG_CONFIG_HOME/libvirt/libvirt.conf otherwise).');
  page.item('/run/guestd/guestd-sock, /run/guestd/guestd-sock-ro', 'guestd\'s read-write and read-only sockets (guest:///system; -r uses the second).');
  page.item('/run/libvirt/libvirt-sock, /run/libvirt/libvirt-sock-ro', 'libvirtd\'s (qemu:///system).');
  page.section('examples').literal([
    'guestctl -c guest:///system define web1.xml',
    'guestctl -c guest:///system start web1',
    'guestctl -c guest:///system list --all',
    'guestctl -c qemu:///system domstate --reason vm1',
    'guestctl -c guest:///system managedsave web1',
  ]);
  page.section('see also').raw('.BR guestd (8),', '.BR libvirt\\-guests (8),', '.BR virsh (1)');
  return page.render();
}

/** file name → page text */
export function manPages(input: DocsInput): Record<string, string> {
  return {
    'libvirt-guests.8': libvirtGuestsPage(input),
    'guestd.8': guestdPage(input),
    'guestd.conf.5': guestdConfPage(input),
    'guestctl.1': guestctlPage(input),
  };
}
