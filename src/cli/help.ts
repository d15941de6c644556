// Root help that shows, under each command's one-line summary, its first example. A command's own help is oclif's;
// help about a command that does not exist is the unknown-command error (oclif would say "Command x not found.").
import { Errors, Help, type Command } from '@oclif/core';
import { EXIT } from '../errors.js';
import { renderError } from '../ui/text.js';
import { unknownCommand } from './usage.js';

/** what help is asked about, as oclif finds it: the first word that is not a help word, unless a flag comes first */
function helpSubject(argv: string[], helpWords: ReadonlySet<string>): string | undefined {
  for (const word of argv) {
    if (helpWords.has(word)) continue;
    return word.startsWith('-') ? undefined : word;
  }
  return undefined;
}

export default class GuestsHelp extends Help {
  private listingRoot = false;

  override async showHelp(argv: string[]): Promise<void> {
    const subject = helpSubject(argv, new Set(['help', '--help', ...(this.config.pjson.oclif.additionalHelpFlags ?? [])]));
    if (subject !== undefined && !this.config.findCommand(subject) && !this.config.findTopic(subject)) {
      process.stderr.write(`${renderError(unknownCommand(this.config, subject))}\n`);
      Errors.exit(EXIT.USAGE);
    }
    await super.showHelp(argv);
  }

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
