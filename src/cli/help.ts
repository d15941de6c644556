// Root help that shows, under each command's one-line summary, its first example.
import { Help, type Command } from '@oclif/core';

export default class GuestsHelp extends Help {
  protected override summary(c: Command.Loadable): string | undefined {
    const summary = super.summary(c);
    const first = [c.examples ?? []].flat()[0];
    const text = typeof first === 'string' ? first : first?.command;
    if (!text) return summary;
    const example = text.replaceAll('<%= config.bin %>', this.config.bin).replaceAll('<%= command.id %>', c.id);
    return `${summary ?? ''}\n  e.g. ${example}`;
  }
}
