// An unknown command: say so with the nearest command and the usage line, exit 2 (the original's usage exit code).
import type { Hook } from '@oclif/core';
import { EXIT } from '../../errors.js';
import { renderError } from '../../ui/text.js';
import { unknownCommand } from '../usage.js';

const hook: Hook.CommandNotFound = async function (options) {
  process.stderr.write(`${renderError(unknownCommand(options.config, options.id))}\n`);
  this.exit(EXIT.USAGE);
};

export default hook;
