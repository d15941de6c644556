// Every command of libvirt-guests, by id, with the hooks and the help class: the entry of the bundle that
// bin/run.js loads (package.json's oclif section names this module's exports; scripts/build/bundle.ts builds it).
import { execute } from '@oclif/core';
import GuestsHelp from '../src/cli/help.js';
import initHook from '../src/cli/hooks/init.js';
import notFoundHook from '../src/cli/hooks/not-found.js';
import Condrestart from './condrestart.js';
import Evacuate from './evacuate.js';
import ForceReload from './force-reload.js';
import Gueststatus from './gueststatus.js';
import PolicySet from './policy/set.js';
import PolicyShow from './policy/show.js';
import PolicyUnset from './policy/unset.js';
import Reload from './reload.js';
import Restart from './restart.js';
import Return from './return.js';
import Shutdown from './shutdown.js';
import Start from './start.js';
import Status from './status.js';
import Stop from './stop.js';
import TryRestart from './try-restart.js';

export const COMMANDS = {
  condrestart: Condrestart,
  evacuate: Evacuate,
  'force-reload': ForceReload,
  gueststatus: Gueststatus,
  'policy:set': PolicySet,
  'policy:show': PolicyShow,
  'policy:unset': PolicyUnset,
  reload: Reload,
  restart: Restart,
  return: Return,
  shutdown: Shutdown,
  start: Start,
  status: Status,
  stop: Stop,
  'try-restart': TryRestart,
};

export { GuestsHelp, initHook, notFoundHook };

/** runs the command line; `dir` is a file of the package (oclif finds package.json above it) */
export async function run(dir: string): Promise<void> {
  await execute({ dir });
}
