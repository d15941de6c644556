// guestctl's command line: `guestctl [-c URI] COMMAND [options] [args]`, virsh's spelling. Pure.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

export interface CommandSpec {
  /** positional argument names, in order; a trailing '?' marks one as optional */
  args: string[];
  flags: Record<string, 'boolean' | 'string'>;
  summary: string;
}

export const COMMANDS: Record<string, CommandSpec> = {
  list: { args: [], flags: { all: 'boolean', uuid: 'boolean', name: 'boolean', json: 'boolean' }, summary: 'list guests' },
  dominfo: { args: ['domain'], flags: { json: 'boolean' }, summary: 'guest information' },
  domstate: { args: ['domain'], flags: { reason: 'boolean', json: 'boolean' }, summary: 'guest state' },
  define: { args: ['file'], flags: {}, summary: 'define (but do not start) a guest from an XML file' },
  undefine: { args: ['domain'], flags: { 'managed-save': 'boolean' }, summary: 'undefine a guest' },
  create: { args: ['file'], flags: {}, summary: 'create and start a transient guest from an XML file' },
  start: { args: ['domain'], flags: { 'bypass-cache': 'boolean', 'force-boot': 'boolean' }, summary: 'start a guest' },
  shutdown: { args: ['domain'], flags: {}, summary: 'gracefully shut down a guest' },
  destroy: { args: ['domain'], flags: {}, summary: 'stop a guest at once' },
  managedsave: { args: ['domain'], flags: { 'bypass-cache': 'boolean' }, summary: 'save a guest, restored on start' },
  'managedsave-remove': { args: ['domain'], flags: {}, summary: 'remove the managed save image of a guest' },
  domjobinfo: { args: ['domain'], flags: { json: 'boolean' }, summary: 'progress of the running job' },
  domtime: { args: ['domain'], flags: { sync: 'boolean', json: 'boolean' }, summary: 'get or sync the guest time' },
  autostart: { args: ['domain'], flags: { disable: 'boolean' }, summary: 'start the guest when the daemon starts' },
  metadata: { args: ['domain', 'uri'], flags: { json: 'boolean' }, summary: 'show a custom metadata element' },
  dumpxml: { args: ['domain'], flags: {}, summary: 'the guest definition' },
  version: { args: [], flags: { json: 'boolean' }, summary: 'host and library versions' },
  uri: { args: [], flags: {}, summary: 'the URI of the connection' },
  help: { args: ['command?'], flags: {}, summary: 'this help' },
};

export interface Invocation {
  uri: string | null;
  /** -r: open the connection read-only (the daemon's read-only socket), as virsh -r */
  readonly: boolean;
  command: string;
  args: Record<string, string | undefined>;
  flags: Record<string, boolean | string | undefined>;
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, spec]) => {
    const flags = Object.keys(spec.flags).map((f) => `[--${f}]`);
    const args = spec.args.map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : `<${a}>`));
    return `  ${name.padEnd(width)}  ${spec.summary}\n  ${' '.repeat(width)}  ${[name, ...flags, ...args].join(' ')}`;
  });
  return `Usage: guestctl [-c URI] [-r] <command> [options] [args]\n\nCommands:\n${lines.join('\n')}\n`;
}

export function parseInvocation(argv: readonly string[]): Invocation {
  // global options come before the command
  let uri: string | null = null;
  let readonly = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--connect') {
      uri = argv[++i] ?? null;
      if (!uri) throw new UsageError(`${a} needs a URI`);
    } else if (a.startsWith('--connect=')) uri = a.slice('--connect='.length);
    else if (a === '-r' || a === '--readonly') readonly = true;
    else if (a === '-h' || a === '--help') return { uri, readonly, command: 'help', args: {}, flags: {} };
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`, { hint: "Try 'guestctl help'." });
    else break;
  }
  const command = argv[i];
  if (!command) throw new UsageError('no command given', { hint: "Try 'guestctl help'." });
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command: '${command}'`, { hint: "Try 'guestctl help'." });
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(i + 1),
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(Object.entries(spec.flags).map(([f, type]) => [f, { type }])),
    });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`, { hint: `Try 'guestctl help ${command}'.` });
  }
  const args: Record<string, string | undefined> = {};
  spec.args.forEach((name, n) => {
    const value = parsed.positionals[n];
    const optional = name.endsWith('?');
    if (value === undefined && !optional) {
      throw new UsageError(`${command}: missing <${name}>`, { hint: `Try 'guestctl help ${command}'.` });
    }
    args[name.replace(/\?$/, '')] = value;
  });
  if (parsed.positionals.length > spec.args.length) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[spec.args.length]}'`);
  }
  return { uri, readonly, command, args, flags: parsed.values as Record<string, boolean | string | undefined> };
}
