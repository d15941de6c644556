// The original's one-line usage, listing only the commands that exist here.
import type { Interfaces } from '@oclif/core';

export function usageLine(config: Interfaces.Config): string {
  const ids = config.commandIDs.filter((id) => id !== 'help').sort();
  return `Usage: ${config.bin} {${ids.join('|')}}  (${config.bin} --help for details)`;
}
