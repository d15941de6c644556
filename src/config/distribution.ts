// Whose defaults apply. Debian patches libvirt-guests.sh (ON_BOOT=ignore, ON_SHUTDOWN=shutdown, its lock in
// /var/lock), so on Debian and its derivatives a drop-in that used upstream's defaults would silently start saving
// and restoring guests that were shut down and left off before. The family comes from os-release (ID, ID_LIKE);
// $LIBVIRT_GUESTS_PROFILE names a profile explicitly.
import { parse } from 'dotenv';
import { ConfigError } from '../errors.js';
import type { Files } from '../effects/files.js';
import { VARIABLES, type GuestsConfig } from './variables.js';

export const PROFILE_ENV = 'LIBVIRT_GUESTS_PROFILE';
/** os-release(5): the first that exists */
export const OS_RELEASE_FILES = ['/etc/os-release', '/usr/lib/os-release'] as const;

export type ProfileName = 'upstream' | 'debian';

export interface Profile {
  name: ProfileName;
  /** how people call it: "Debian", "upstream" */
  title: string;
  /** why this profile applies, e.g. "/etc/os-release: ID_LIKE=debian" or "$LIBVIRT_GUESTS_PROFILE=debian" */
  chosenBy: string;
  /** defaults that differ from upstream's, written as in the file */
  defaults: Partial<Record<keyof GuestsConfig, string>>;
  lockFile: string;
}

const PROFILES: Record<ProfileName, Omit<Profile, 'chosenBy'>> = {
  upstream: { name: 'upstream', title: 'upstream', defaults: {}, lockFile: '/var/lock/subsys/libvirt-guests' },
  // the values at the top of Debian's /usr/lib/libvirt/libvirt-guests.sh (libvirt-daemon 9.0.0-4)
  debian: { name: 'debian', title: 'Debian', defaults: { ON_BOOT: 'ignore', ON_SHUTDOWN: 'shutdown' }, lockFile: '/var/lock/libvirt-guests' },
};

export const profileNames = Object.keys(PROFILES) as ProfileName[];

/** What a profile completes: a file's values and their lines (sysconfig.ts's LoadedConfig, which imports this module). */
interface FileValues {
  config: GuestsConfig;
  setAt: Partial<Record<keyof GuestsConfig, number>>;
}

export function profile(name: ProfileName, chosenBy: string): Profile {
  return { ...PROFILES[name], chosenBy };
}

/**
 * ID and ID_LIKE of an os-release file. os-release(5) is a list of KEY=value assignments that are never executed,
 * which is what dotenv parses (comments, quotes, CRLF; ID_LIKE is a space-separated list). Loading dotenv costs the
 * start of `status` about one node:crypto load; measured by `npm run bench:cold-start`.
 */
export function parseOsRelease(text: string): { id: string; idLike: string[] } {
  const values = parse(text);
  return { id: values.ID ?? '', idLike: (values.ID_LIKE ?? '').split(/\s+/).filter(Boolean) };
}

/** The profile of the distribution described by an os-release text. */
export function profileFromOsRelease(text: string, file: string): Profile {
  const { id, idLike } = parseOsRelease(text);
  if (id === 'debian') return profile('debian', `${file}: ID=debian`);
  if (idLike.includes('debian')) return profile('debian', `${file}: ID=${id}, ID_LIKE=${idLike.join(' ')}`);
  return profile('upstream', `${file}: ID=${id || '(none)'}, not Debian-like`);
}

export async function detectProfile(env: NodeJS.ProcessEnv, files: Files): Promise<Profile> {
  const named = env[PROFILE_ENV];
  if (named !== undefined && named !== '' && named !== 'auto') {
    if (!(profileNames as string[]).includes(named)) {
      throw new ConfigError(`$${PROFILE_ENV}="${named}" is not a profile: allowed values are "auto", ${profileNames.map((n) => `"${n}"`).join(', ')}`, {}, {
        hint: `Unset it to follow ${OS_RELEASE_FILES[0]}, or name one of those.`,
      });
    }
    return profile(named as ProfileName, `$${PROFILE_ENV}=${named}`);
  }
  for (const file of OS_RELEASE_FILES) {
    const text = await files.readText(file);
    if (text !== null) return profileFromOsRelease(text, file);
  }
  return profile('upstream', `no ${OS_RELEASE_FILES.join(' or ')}`);
}

/** The variables the file did not set take the profile's default where it has one. */
export function applyProfile<T extends FileValues>(loaded: T, chosen: Profile): T & { profile: Profile } {
  const config = { ...loaded.config } as Record<string, unknown>;
  for (const [name, text] of Object.entries(chosen.defaults)) {
    if (loaded.setAt[name as keyof GuestsConfig] !== undefined) continue;
    const checked = VARIABLES.find((v) => v.name === name)!.check(text);
    if (!checked.ok) throw new Error(`the ${chosen.title} default ${name}=${text} does not pass its own check`);
    config[name] = checked.value;
  }
  return { ...loaded, config: config as unknown as GuestsConfig, profile: chosen };
}

/** Where each setting's value comes from: "FILE:LINE", "Debian default" or "built-in default". */
export function settingOrigins(
  loaded: FileValues & { source: { file: string | null }; profile: Profile },
): Record<keyof GuestsConfig, string> {
  const out: Record<string, string> = {};
  for (const { name } of VARIABLES) {
    const line = loaded.setAt[name];
    if (line !== undefined) out[name] = `${loaded.source.file}:${line}`;
    else if (loaded.profile.defaults[name] !== undefined) out[name] = `${loaded.profile.title} default`;
    else out[name] = 'built-in default';
  }
  return out as Record<keyof GuestsConfig, string>;
}
