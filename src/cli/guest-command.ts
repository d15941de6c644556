// Base of the commands that act on guests: builds the services and the terminal, runs one orchestrator function,
// waits for the progress display, renders the result.
import type { Command, Interfaces } from '@oclif/core';
import type { Services } from '../orchestrator/services.js';
import { GuestsCommand, type CommandContext, type Outcome } from './base-command.js';
import { actionFlags } from './flags.js';

export abstract class GuestActionCommand<T extends typeof Command> extends GuestsCommand<T> {
  static override baseFlags = { ...GuestsCommand.baseFlags, ...actionFlags };

  protected abstract act(context: CommandContext, services: Services): Promise<Outcome>;

  /** --dry-run, --backend, --quiet, parsed */
  protected get actionFlags(): Interfaces.InferredFlags<typeof actionFlags> {
    return this.flags as unknown as Interfaces.InferredFlags<typeof actionFlags>;
  }

  protected async execute(context: CommandContext): Promise<Outcome> {
    // the connections, the terminal and the lock: loaded when a command acts, not at every start (`status`, `--help`)
    const { realServices, terminalFor } = await import('./services.js');
    const terminal = terminalFor({ json: context.json, quiet: this.actionFlags.quiet });
    const services = realServices(terminal, context.env, this.actionFlags.backend);
    try {
      return await this.act(context, services);
    } finally {
      await terminal.finish();
    }
  }
}
