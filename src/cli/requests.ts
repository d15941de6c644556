// Builds the orchestrator's requests from the loaded configuration and the command line.
import type { OnShutdown } from '../config/variables.js';
import type { StartRequest } from '../orchestrator/start.js';
import type { StopRequest } from '../orchestrator/stop.js';
import type { CommandContext } from './base-command.js';

export function stopRequest(context: CommandContext, command: 'stop' | 'shutdown', dryRun: boolean): StopRequest {
  const action: OnShutdown = command === 'shutdown' ? 'shutdown' : context.loaded.config.ON_SHUTDOWN;
  return { command, config: context.loaded.config, action, dryRun, listFile: context.paths.listFile, lockFile: context.paths.lockFile };
}

export function startRequest(context: CommandContext, dryRun: boolean): StartRequest {
  return { config: context.loaded.config, dryRun, listFile: context.paths.listFile, lockFile: context.paths.lockFile };
}
