// The base of every libvirt-guests command: shared flags, config loading (every command validates the config
// first, so a bad file is caught at boot by ExecStart rather than on the night the host shuts down), one result
// object rendered either for people or as JSON, and the single place where errors become exit codes.
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { EXIT, GuestsError, type ExitCode } from '../errors.js';
import { renderError } from '../ui/text.js';
import { commandContext, outcomeOutput, warningLines, type CommandContext, type Outcome } from './context.js';
import { usageErrorOf } from './parse-error.js';

export type { CommandContext, Outcome };

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

  /** why the command takes no --dry-run, --backend or --quiet (the commands that act on guests take them) */
  static whyNoActionFlags: string | undefined;

  private wantsJson = false;
  /** this command's flags, parsed once */
  protected flags!: CommandFlags<T>;
  /** its arguments (the commands that take any: policy, evacuate's guest names) */
  protected words: string[] = [];

  protected abstract execute(context: CommandContext): Promise<Outcome>;

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(this.constructor as typeof GuestsCommand);
    this.flags = flags as CommandFlags<T>;
    this.words = argv.map(String);
    this.wantsJson = flags.json;
    const context = await commandContext(flags, process.env);
    process.stderr.write(warningLines(context));
    const outcome = await this.execute(context);
    process.stdout.write(outcomeOutput(outcome, flags.json));
    process.exitCode = outcome.result.exit;
  }

  /** the exit status of a command that failed with `error` */
  protected exitOf(error: Error): ExitCode {
    return error instanceof GuestsError ? error.exit : EXIT.FAILURE;
  }

  protected override async catch(err: Error & { oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof Errors.ExitError) return super.catch(err);
    // oclif's own parse errors (unknown flag, bad value, stray argument) carry an exit status
    const error = err.oclif?.exit !== undefined && !(err instanceof GuestsError) ? usageErrorOf(err, this.commandLine()) : err;
    const exit = this.exitOf(error);
    if (this.wantsJson && error instanceof GuestsError) process.stdout.write(`${JSON.stringify({ ...error.toJSON(), exit }, null, 2)}\n`);
    process.stderr.write(`${renderError(error)}\n`);
    process.exitCode = exit;
    return undefined;
  }

  private commandLine() {
    const ctor = this.constructor as typeof GuestsCommand;
    const flags = Object.entries({ ...ctor.baseFlags, ...ctor.flags }).flatMap(([name, f]) => [`--${name}`, ...(f.char ? [`-${f.char}`] : [])]);
    return { bin: this.config.bin, id: (this.id ?? '').replaceAll(':', ' '), flags, whyNoActionFlags: ctor.whyNoActionFlags };
  }
}
