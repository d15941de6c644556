// Finding, reading and validating the libvirt-guests configuration file.
import { ConfigError, StateFileError } from '../errors.js';
import type { Files } from '../effects/files.js';
import { applyProfile, detectProfile, type Profile } from './distribution.js';
import { excerpt } from './excerpt.js';
import { parseShellAssignments } from './shell-assignments.js';
import { VARIABLES, defaultConfig, nearestVariable, type GuestsConfig } from './variables.js';

/** Searched in this order when neither --config nor LIBVIRT_GUESTS_CONFIG names a file (Fedora, Debian, Arch). */
export const CONFIG_CANDIDATES = [
  '/etc/sysconfig/libvirt-guests',
  '/etc/default/libvirt-guests',
  '/etc/conf.d/libvirt-guests',
] as const;

export const CONFIG_ENV = 'LIBVIRT_GUESTS_CONFIG';

export interface ConfigSource {
  /** null: no file, every variable has its default */
  file: string | null;
  origin: 'flag' | 'env' | 'search' | 'none';
}

export interface LoadedConfig {
  config: GuestsConfig;
  source: ConfigSource;
  /** one line each, with file:line */
  warnings: string[];
  /** the line each variable was set on, for later error messages */
  setAt: Partial<Record<keyof GuestsConfig, number>>;
  /** whose defaults fill what the file does not set */
  profile: Profile;
}

export async function locateConfig(flag: string | undefined, env: NodeJS.ProcessEnv, files: Files): Promise<ConfigSource> {
  const named = flag ?? env[CONFIG_ENV];
  if (named !== undefined && named !== '') {
    const origin = flag !== undefined ? 'flag' : 'env';
    if (!(await files.exists(named))) {
      throw new ConfigError(`configuration file ${named} does not exist`, {}, {
        hint: `It was named by ${origin === 'flag' ? '--config' : `$${CONFIG_ENV}`}; fix the path or create the file.`,
      });
    }
    return { file: named, origin };
  }
  for (const candidate of CONFIG_CANDIDATES) {
    if (await files.exists(candidate)) return { file: candidate, origin: 'search' };
  }
  return { file: null, origin: 'none' };
}

/** Validates the text of a configuration file; `file` is used in messages only. */
export function parseConfig(text: string, file: string): Omit<LoadedConfig, 'source' | 'profile'> {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const warnings: string[] = [];
  const setAt: Record<string, number> = {};
  for (const { name, value, line } of parseShellAssignments(text, file)) {
    const spec = VARIABLES.find((v) => v.name === name);
    if (!spec) {
      const near = nearestVariable(name);
      warnings.push(`${file}:${line}: unknown variable ${name}${near ? ` (did you mean ${near}?)` : ''}; it is ignored`);
      continue;
    }
    const checked = spec.check(value);
    if (!checked.ok) {
      throw new ConfigError(
        `${name}="${excerpt(value)}" is not valid: allowed values are ${checked.allowed} (default: ${spec.defaultText})`,
        { file, line, variable: name },
        { hint: `Fix line ${line}, or remove it to use the default.` },
      );
    }
    if (setAt[name] !== undefined) warnings.push(`${file}:${line}: ${name} is set again (line ${setAt[name]} is overridden)`);
    config[name] = checked.value;
    setAt[name] = line;
  }
  const result = config as unknown as GuestsConfig;
  if (result.ON_SHUTDOWN === 'migrate' && result.MIGRATE_URI === '')
    throw new ConfigError(
      'ON_SHUTDOWN="migrate" needs MIGRATE_URI, the URI of the peer host that takes the guests',
      { file, line: setAt.ON_SHUTDOWN, variable: 'ON_SHUTDOWN' },
      { hint: 'Set MIGRATE_URI (e.g. MIGRATE_URI=qemu+tls://peer.example/system), or choose ON_SHUTDOWN=suspend or shutdown.' },
    );
  if (result.URIS.length === 0) warnings.push(`${file}:${setAt.URIS}: URIS is empty: no guests will be handled`);
  return { config: result, warnings, setAt };
}

export async function loadConfig(flag: string | undefined, env: NodeJS.ProcessEnv, files: Files): Promise<LoadedConfig> {
  const profile = await detectProfile(env, files);
  const source = await locateConfig(flag, env, files);
  if (source.file === null) return applyProfile({ config: defaultConfig(), source, warnings: [], setAt: {} }, profile);
  let text: string | null;
  try {
    text = await files.readText(source.file);
  } catch (err) {
    throw new ConfigError(err instanceof StateFileError ? err.message : `${source.file}: ${(err as Error).message}`, {}, {
      hint: 'The configuration must be a regular file (or a link to one): fix it, or name another with --config or $LIBVIRT_GUESTS_CONFIG.',
      cause: err,
    });
  }
  if (text === null) throw new ConfigError(`configuration file ${source.file} disappeared while being read`);
  return applyProfile({ ...parseConfig(text, source.file), source }, profile);
}
