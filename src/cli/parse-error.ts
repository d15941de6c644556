// oclif's own command-line errors (an unknown flag, a bad value, a stray argument) in the project's style: the
// command, what is wrong, and what to do — "did you mean" for a mistyped flag, why a command lacks a flag it lacks.
import { UsageError } from '../errors.js';
import { nearestWord } from '../spelling.js';

interface CommandLine {
  bin: string;
  id: string;
  /** the flags the command takes, as typed: `--json`, `-q` */
  flags: string[];
  /** why the command takes no --dry-run, --backend or --quiet, when it does not */
  whyNoActionFlags?: string | undefined;
}

const ACTION_FLAGS = new Set(['--dry-run', '--backend', '--quiet', '-q']);

export const noActionFlags = (why: string): string => `takes no --dry-run, --backend or --quiet: ${why}`;

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** `err` is one of oclif's parse errors (they carry `oclif.exit`); NonExistentFlagsError lists `flags`,
 *  UnexpectedArgsError `args`; the others say it in their message, followed by oclif's own advice. */
export function usageErrorOf(err: Error & { flags?: unknown; args?: unknown }, line: CommandLine): UsageError {
  const seeHelp = `See '${line.bin} ${line.id} --help'.`;
  if (strings(err.flags) && err.flags.length > 0) {
    const name = err.flags[0]!.split('=')[0]!;
    if (line.whyNoActionFlags && ACTION_FLAGS.has(name)) {
      return new UsageError(`${line.id}: ${name} does not apply`, { hint: `${line.id} ${noActionFlags(line.whyNoActionFlags)}.` });
    }
    const near = nearestWord(name, line.flags);
    return new UsageError(`${line.id}: unknown flag ${err.flags.join(', ')}`, { hint: `${near ? `Did you mean ${near}? ` : ''}${seeHelp}` });
  }
  if (strings(err.args) && err.args.length > 0) {
    return new UsageError(`${line.id}: unexpected argument ${err.args.map((a) => `"${a}"`).join(', ')}`, {
      hint: `${line.id} takes no arguments. ${seeHelp}`,
    });
  }
  const what = err.message
    .replace(/\x1b\[[0-9;]*m/g, '') // eslint-disable-line no-control-regex -- oclif dims the reasons
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'See more help with --help' && !/^The following errors? occurred:$/.test(l))
    .join('; ')
    .replace(/:; /g, ': ');
  return new UsageError(`${line.id}: ${what.charAt(0).toLowerCase()}${what.slice(1)}`, { hint: seeHelp });
}
