// No command at all: print the usage line and exit 2, as libvirt-guests.sh does (oclif would show help, exit 0).
import type { Hook } from '@oclif/core';
import { EXIT } from '../../errors.js';
import { usageLine } from '../usage.js';

const hook: Hook.Init = async function (options) {
  if (options.id === undefined && options.argv.length === 0) {
    process.stdout.write(`${usageLine(options.config)}\n`);
    this.exit(EXIT.USAGE);
  }
};

export default hook;
