// An unknown command: say so with the nearest command and the usage line, exit 2 (the original's usage exit code).
import type { Hook } from '@oclif/core';
import { EXIT } from '../../errors.js';
import { renderError } from '../../ui/text.js';
import { commandPrefix, unknownCommand } from '../usage.js';

const hook: Hook.CommandNotFound = async function (options) {
  // `stop extra`: the command with its stray argument, so that it says what is wrong with it
  const command = commandPrefix(options.config, options.id);
  if (command) return options.config.runCommand(command.id, [...command.rest, ...(options.argv ?? [])]);
  process.stderr.write(`${renderError(unknownCommand(options.config, options.id))}\n`);
  this.exit(EXIT.USAGE);
};

export default hook;
