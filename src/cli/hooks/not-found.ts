// An unknown command: say so, print the usage line, exit 2 (the original's usage exit code).
import type { Hook } from '@oclif/core';
import { EXIT } from '../../errors.js';
import { usageLine } from '../usage.js';

const hook: Hook.CommandNotFound = async function (options) {
  process.stderr.write(`error: unknown command "${options.id}"\n${usageLine(options.config)}\n`);
  this.exit(EXIT.USAGE);
};

export default hook;
