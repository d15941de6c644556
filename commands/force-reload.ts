import Reload from './reload.js';

/** The original accepts both names for the same no-op; here both validate the configuration. */
export default class ForceReload extends Reload {
  static override summary = Reload.summary;
  static override examples = ['<%= config.bin %> <%= command.id %>'];
}
