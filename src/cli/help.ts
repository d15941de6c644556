// Root help that shows, under each command's one-line summary, its first example. A command's own help is oclif's.
import { Help, type Command } from '@oclif/core';

export default class GuestsHelp extends Help {
  private listingRoot = false;

  protected override async showRootHelp(): Promise<void> {
    this.listingRoot = true;
    try {
      await super.showRootHelp();
    } finally {
      this.listingRoot = false;
    }
  }

  protected override summary(c: Command.Loadable): string | undefined {
    const summary = super.summary(c);
    const first = [c.examples ?? []].flat()[0];
    const text = typeof first === 'string' ? first : first?.command;
    if (!this.listingRoot || !text) return summary;
    const example = text.replaceAll('<%= config.bin %>', this.config.bin).replaceAll('<%= command.id %>', c.id);
    return `${summary ?? ''}\n  e.g. ${example}`;
  }
}
