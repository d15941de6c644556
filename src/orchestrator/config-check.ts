// `reload` / `force-reload`: libvirt-guests reads its configuration on every run, so there is nothing to reload;
// the original does nothing at all. We validate the file and report, so an admin who just edited it learns now.
import { EXIT, type ExitCode } from '../errors.js';
import type { LoadedConfig } from '../config/sysconfig.js';
import type { GuestsConfig } from '../config/variables.js';

export interface ConfigCheckResult extends Record<string, unknown> {
  command: 'reload' | 'force-reload';
  exit: ExitCode;
  configFile: string | null;
  valid: true;
  warnings: string[];
  config: GuestsConfig;
}

export function checkConfig(command: ConfigCheckResult['command'], loaded: LoadedConfig): ConfigCheckResult {
  return {
    command,
    exit: EXIT.OK,
    configFile: loaded.source.file,
    valid: true,
    warnings: loaded.warnings,
    config: loaded.config,
  };
}
