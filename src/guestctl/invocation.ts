// guestctl's command line, virsh's spelling: `guestctl [-c URI] [-r] [-q] COMMAND [--option…] [ARG…]`, read
// against the command table. `-h`/`--help` before a command is the global help, after one that command's help;
// `-v`/`--version` prints the version. Pure: every mistake is a UsageError saying what, where, and what to do.
import { UsageError } from '../errors.js';
import { nearestWord } from '../spelling.js';
import { GLOBAL_OPTIONS, type GuestctlCommand } from './command.js';

export type Invocation =
  | { kind: 'version' }
  | {
      kind: 'command';
      uri: string | null;
      /** -r: open the connection read-only (the daemon's read-only socket), as virsh -r */
      readonly: boolean;
      /** -q: virsh's quiet mode */
      quiet: boolean;
      command: GuestctlCommand;
      args: ReadonlyMap<string, string>;
      flags: ReadonlySet<string>;
    };

interface Globals {
  uri: string | null;
  readonly: boolean;
  quiet: boolean;
}

const mention = (near: string | undefined): string => (near ? `Did you mean '${near}'? ` : '');

function find(table: readonly GuestctlCommand[], name: string): GuestctlCommand | undefined {
  return table.find((c) => c.name === name);
}

function helpFor(table: readonly GuestctlCommand[], globals: Globals, topic?: string): Invocation {
  const help = find(table, 'help')!;
  return { kind: 'command', ...globals, command: help, args: new Map(topic ? [['command', topic]] : []), flags: new Set() };
}

export function parseInvocation(argv: readonly string[], table: readonly GuestctlCommand[]): Invocation {
  const globals: Globals = { uri: null, readonly: false, quiet: false };
  let i = 0;
  const uriAfter = (option: string, inline: string): string => {
    const uri = inline || argv[++i];
    if (!uri) throw new UsageError(`${option} needs a URI`, { hint: `Write '${option} URI', e.g. '${option} guest:///system'.` });
    return uri;
  };
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-') || word === '-') break;
    if (word === '--') {
      i++;
      break;
    }
    // a long option, or a cluster of short ones (`-rq`, `-cURI`): virsh reads them with getopt
    const letters = word.startsWith('--') ? [word] : [...word.slice(1)].map((l) => `-${l}`);
    for (let n = 0; n < letters.length; n++) {
      const [name, inline] = letters[n]!.startsWith('--') ? splitLong(letters[n]!) : [letters[n]!, ''];
      const option = GLOBAL_OPTIONS.find((o) => name === `-${o.short}` || name === `--${o.long}`);
      if (!option) {
        const near = nearestWord(name, GLOBAL_OPTIONS.map((o) => `--${o.long}`));
        throw new UsageError(`unknown option '${name}'`, { hint: `${mention(near)}'guestctl --help' lists the options.` });
      }
      if (option.long === 'connect') {
        globals.uri = uriAfter(name, inline || letters.slice(n + 1).map((l) => l.slice(1)).join(''));
        break;
      }
      if (inline) throw new UsageError(`option '${name}' takes no value`, { hint: `Write '${name}' alone.` });
      if (option.long === 'help') return helpFor(table, globals);
      if (option.long === 'version') return { kind: 'version' };
      if (option.long === 'readonly') globals.readonly = true;
      if (option.long === 'quiet') globals.quiet = true;
    }
  }
  const name = argv[i];
  if (name === undefined) throw new UsageError('no command given', { hint: "'guestctl help' lists the commands." });
  const command = find(table, name);
  if (!command) {
    const near = nearestWord(name, table.map((c) => c.name));
    throw new UsageError(`unknown command '${name}'`, { hint: `${mention(near)}'guestctl help' lists the commands.` });
  }
  return readCommand(command, argv.slice(i + 1), table, globals);
}

function splitLong(word: string): [string, string] {
  const eq = word.indexOf('=');
  return eq === -1 ? [word, ''] : [word.slice(0, eq), word.slice(eq + 1)];
}

function readCommand(command: GuestctlCommand, words: readonly string[], table: readonly GuestctlCommand[], globals: Globals): Invocation {
  const seeHelp = `'guestctl help ${command.name}' lists its options and arguments.`;
  const positionals: string[] = [];
  const flags = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      positionals.push(word);
      continue;
    }
    if (word === '-h' || word === '--help') return helpFor(table, globals, command.name);
    const [name, inline] = splitLong(word);
    const option = command.options.find((o) => name === `--${o.name}`);
    if (!option) {
      const near = nearestWord(name, [...command.options.map((o) => `--${o.name}`), '--help']);
      throw new UsageError(`${command.name}: unknown option '${name}'`, { hint: `${mention(near)}${seeHelp}` });
    }
    if (inline) throw new UsageError(`${command.name}: option '${name}' takes no value`, { hint: `Write '${name}' alone.` });
    flags.add(option.name);
  }
  const args = new Map<string, string>();
  command.args.forEach((spec, n) => {
    const value = positionals[n];
    if (value !== undefined) args.set(spec.name, value);
    else if (!spec.optional) throw new UsageError(`${command.name}: missing <${spec.name}> (${spec.help})`, { hint: seeHelp });
  });
  if (positionals.length > command.args.length) {
    throw new UsageError(`${command.name}: unexpected argument '${positionals[command.args.length]}'`, { hint: seeHelp });
  }
  return { kind: 'command', ...globals, command, args, flags };
}
