// The original's one-line usage, listing only the commands that exist here, and the error of an unknown command.
import type { Interfaces } from '@oclif/core';
import { UsageError } from '../errors.js';
import { nearestWord } from '../spelling.js';

/** command ids as typed: topics and commands separated by a space (oclif's ids use a colon) */
const spaced = (id: string): string => id.replaceAll(':', ' ');

const commandIds = (config: Interfaces.Config): string[] => config.commandIDs.filter((id) => id !== 'help').map(spaced).sort();

export function usageLine(config: Interfaces.Config): string {
  return `Usage: ${config.bin} {${commandIds(config).join('|')}}  (${config.bin} --help for details)`;
}

export function unknownCommand(config: Interfaces.Config, id: string): UsageError {
  const near = nearestWord(spaced(id), commandIds(config));
  return new UsageError(`unknown command "${spaced(id)}"`, { hint: `${near ? `Did you mean "${near}"? ` : ''}${usageLine(config)}` });
}

/**
 * With topics separated by spaces, oclif takes the words after a command for more of its id (`stop extra` is looked
 * up as "stop:extra"). The longest leading part that is a command, and the words left over as its arguments; null
 * when no part is a command.
 */
export function commandPrefix(config: Interfaces.Config, id: string): { id: string; rest: string[] } | null {
  const words = id.split(':');
  for (let n = words.length - 1; n > 0; n--) {
    const prefix = words.slice(0, n).join(':');
    if (config.findCommand(prefix)) return { id: prefix, rest: words.slice(n) };
  }
  return null;
}
