// Plain-text rendering shared by every command. chalk honours NO_COLOR and FORCE_COLOR, and colours only a TTY.
import chalk from 'chalk';
import { GuestsError } from '../errors.js';

export function renderError(err: Error): string {
  const head = chalk.red('error:');
  if (err instanceof GuestsError) return `${head} ${err.message}${err.hint ? `\n  ${chalk.dim(err.hint)}` : ''}`;
  return `${head} ${err.message}`;
}
