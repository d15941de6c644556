// `libvirt-guests status` without oclif. Status is what monitoring and systemd ask most often, and loading oclif
// costs more than Node's own start (the Performance section of the README), so a command line that is plainly
// `status` with its own flags is answered here, through the same context and output as GuestsCommand. Anything else
// (another command, --help, a flag it does not know, a repeated flag, an error of any kind) is left to oclif,
// with nothing printed here: status only reads two files, so running it again under oclif changes nothing.
import { commandContext, outcomeOutput, statusOutcome, warningLines, type CommonFlags } from './context.js';

const VALUE_FLAGS = ['config', 'list-file', 'lock-file'] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

/** the flags of a plain `status` command line, or undefined when any word of it is for oclif to read */
export function plainStatusFlags(argv: readonly string[]): CommonFlags | undefined {
  if (argv[0] !== 'status') return undefined;
  const flags: CommonFlags = { json: false };
  const seen = new Set<string>();
  for (let i = 1; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m || seen.has(m[1]!)) return undefined;
    const name = m[1]!;
    seen.add(name);
    if (name === 'json' && m[2] === undefined) {
      flags.json = true;
      continue;
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(name)) return undefined;
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    flags[name as ValueFlag] = value;
  }
  return flags;
}

/** Answers a plain `status` and returns true; returns false, having printed nothing, when oclif is to run argv. */
export async function quickStatus(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  const flags = plainStatusFlags(argv);
  if (flags === undefined) return false;
  let warnings: string;
  let output: string;
  let exit: number;
  try {
    const context = await commandContext(flags, env);
    const outcome = await statusOutcome(context);
    [warnings, output, exit] = [warningLines(context), outcomeOutput(outcome, flags.json), outcome.result.exit];
  } catch {
    return false; // oclif runs it again and reports the error as every command does
  }
  process.stderr.write(warnings);
  process.stdout.write(output);
  process.exitCode = exit;
  return true;
}
