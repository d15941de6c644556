// The original's one-line usage, listing only the commands that exist here, and the error of an unknown command.
import type { Interfaces } from '@oclif/core';
import { UsageError } from '../errors.js';
import { nearestWord } from '../spelling.js';

const commandIds = (config: Interfaces.Config): string[] => config.commandIDs.filter((id) => id !== 'help').sort();

export function usageLine(config: Interfaces.Config): string {
  return `Usage: ${config.bin} {${commandIds(config).join('|')}}  (${config.bin} --help for details)`;
}

export function unknownCommand(config: Interfaces.Config, id: string): UsageError {
  const near = nearestWord(id, commandIds(config));
  return new UsageError(`unknown command "${id}"`, { hint: `${near ? `Did you mean "${near}"? ` : ''}${usageLine(config)}` });
}
