// The base of every libvirt-guests command: shared flags, config loading (every command validates the config
// first, so a bad file is caught at boot by ExecStart rather than on the night the host shuts down), one result
// object rendered either for people or as JSON, and the single place where errors become exit codes.
import { Command, Flags, type Interfaces } from '@oclif/core';
import { EXIT, GuestsError, type ExitCode } from '../errors.js';
import { nodeFiles, type Files } from '../effects/files.js';
import { loadConfig, type LoadedConfig } from '../config/sysconfig.js';
import { statePaths, type StatePaths } from '../config/paths.js';
import { renderError } from '../ui/text.js';

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

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof GuestsCommand)['baseFlags'] & T['flags']>;

export abstract class GuestsCommand<T extends typeof Command = typeof Command> extends Command {
  static override baseFlags = {
    config: Flags.string({
      description: 'configuration file (default: $LIBVIRT_GUESTS_CONFIG, else /etc/sysconfig, /etc/default, /etc/conf.d)',
      helpValue: 'FILE',
    }),
    'list-file': Flags.string({
      description: 'list of saved guests (default: $LIBVIRT_GUESTS_LIST_FILE, else /var/lib/libvirt/libvirt-guests)',
      helpValue: 'FILE',
    }),
    'lock-file': Flags.string({
      description: 'service lock file (default: $LIBVIRT_GUESTS_LOCK_FILE, else /var/lock/libvirt-guests on Debian, /var/lock/subsys/libvirt-guests elsewhere)',
      helpValue: 'FILE',
    }),
    json: Flags.boolean({ default: false, description: 'print the result as one JSON object on stdout' }),
  };

  private wantsJson = false;
  /** this command's flags, parsed once */
  protected flags!: CommandFlags<T>;

  protected abstract execute(context: CommandContext): Promise<Outcome>;

  async run(): Promise<void> {
    const { flags } = await this.parse(this.constructor as typeof GuestsCommand);
    this.flags = flags as CommandFlags<T>;
    this.wantsJson = flags.json;
    const env = process.env;
    const loaded = await loadConfig(flags.config, env, nodeFiles);
    for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
    const paths = statePaths({ listFile: flags['list-file'], lockFile: flags['lock-file'] }, env, loaded.profile);
    const outcome = await this.execute({ loaded, paths, files: nodeFiles, env, json: flags.json });
    if (this.wantsJson) process.stdout.write(`${JSON.stringify(outcome.result, null, 2)}\n`);
    else if (outcome.text !== '') process.stdout.write(outcome.text.endsWith('\n') ? outcome.text : `${outcome.text}\n`);
    process.exitCode = outcome.result.exit;
  }

  protected override async catch(err: Error & { oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof GuestsError) {
      if (this.wantsJson) process.stdout.write(`${JSON.stringify(err.toJSON(), null, 2)}\n`);
      process.stderr.write(`${renderError(err)}\n`);
      process.exitCode = err.exit;
      return undefined;
    }
    // oclif's own parse errors (unknown flag, bad argument) carry exit 2 already
    if (err.oclif?.exit !== undefined) return super.catch(err);
    process.stderr.write(`${renderError(err)}\n`);
    process.exitCode = EXIT.FAILURE;
    return undefined;
  }
}
