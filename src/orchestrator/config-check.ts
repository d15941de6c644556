// `reload` / `force-reload`: libvirt-guests reads its configuration on every run, so there is nothing to reload;
// the original does nothing at all. We validate the file and report every setting with where its value comes from
// (the file's line, the distribution's default, the built-in default), so an admin who just edited it learns now.
import { EXIT, type ExitCode } from '../errors.js';
import { settingOrigins } from '../config/distribution.js';
import type { StatePaths } from '../config/paths.js';
import type { LoadedConfig } from '../config/sysconfig.js';
import type { GuestsConfig } from '../config/variables.js';

export interface ConfigCheckResult extends Record<string, unknown> {
  command: 'reload' | 'force-reload';
  exit: ExitCode;
  configFile: string | null;
  valid: true;
  warnings: string[];
  config: GuestsConfig;
  /** per variable: "FILE:LINE", "Debian default" or "built-in default" */
  origins: Record<keyof GuestsConfig, string>;
  profile: { name: string; chosenBy: string };
  listFile: { path: string; origin: string };
  lockFile: { path: string; origin: string };
}

export function checkConfig(command: ConfigCheckResult['command'], loaded: LoadedConfig, paths: StatePaths): ConfigCheckResult {
  return {
    command,
    exit: EXIT.OK,
    configFile: loaded.source.file,
    valid: true,
    warnings: loaded.warnings,
    config: loaded.config,
    origins: settingOrigins(loaded),
    profile: { name: loaded.profile.name, chosenBy: loaded.profile.chosenBy },
    listFile: { path: paths.listFile, origin: paths.origins.listFile },
    lockFile: { path: paths.lockFile, origin: paths.origins.lockFile },
  };
}
