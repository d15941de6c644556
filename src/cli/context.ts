// What every libvirt-guests command starts from and ends with, apart from oclif: the configuration and state paths
// its flags name, and its one result printed for people or as JSON. GuestsCommand (base-command.ts) runs every
// command through these; quick.ts answers a plain `status` through them without loading oclif at all.
import { loadConfig, type LoadedConfig } from '../config/sysconfig.js';
import { statePaths, type StatePaths } from '../config/paths.js';
import { nodeFiles, type Files } from '../effects/files.js';
import type { ExitCode } from '../errors.js';
import { serviceStatus } from '../orchestrator/service-status.js';

/** the flags every command takes (GuestsCommand.baseFlags), parsed */
export interface CommonFlags {
  config?: string | undefined;
  'list-file'?: string | undefined;
  'lock-file'?: string | undefined;
  json: boolean;
}

export interface CommandContext {
  loaded: LoadedConfig;
  paths: StatePaths;
  files: Files;
  env: NodeJS.ProcessEnv;
  json: boolean;
}

/** What a command produced: `result` is printed as-is with --json; `text` is what people see. */
export interface Outcome {
  result: { exit: ExitCode } & Record<string, unknown>;
  text: string;
}

/** the configuration (validated: a bad file fails here, before anything is done) and the state paths */
export async function commandContext(flags: CommonFlags, env: NodeJS.ProcessEnv): Promise<CommandContext> {
  const loaded = await loadConfig(flags.config, env, nodeFiles);
  const paths = statePaths({ listFile: flags['list-file'], lockFile: flags['lock-file'] }, env, loaded.profile);
  return { loaded, paths, files: nodeFiles, env, json: flags.json };
}

/** what goes to stderr before the command's output: the configuration's warnings, one line each */
export function warningLines(context: CommandContext): string {
  return context.loaded.warnings.map((warning) => `warning: ${warning}\n`).join('');
}

/** what goes to stdout: the result as JSON, or the text ending in one newline (nothing for no text) */
export function outcomeOutput(outcome: Outcome, json: boolean): string {
  if (json) return `${JSON.stringify(outcome.result, null, 2)}\n`;
  if (outcome.text === '') return '';
  return outcome.text.endsWith('\n') ? outcome.text : `${outcome.text}\n`;
}

/** `status`: the list and lock files only (commands/status.ts, and quick.ts without oclif) */
export async function statusOutcome({ files, paths }: CommandContext): Promise<Outcome> {
  const result = await serviceStatus(files, paths);
  return { result, text: result.message };
}
