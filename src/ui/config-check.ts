// Human text for reload / force-reload: every setting, its value, and where the value comes from.
import type { ConfigCheckResult } from '../orchestrator/config-check.js';

const fileText = (value: unknown): string =>
  Array.isArray(value) ? value.join(' ') : typeof value === 'boolean' ? (value ? '1' : '0') : String(value);

export function renderConfigCheck(result: ConfigCheckResult): string {
  const where = result.configFile === null ? 'no configuration file found; every variable has its default' : `${result.configFile} is valid`;
  const warned = result.warnings.length ? ` (${result.warnings.length} warning${result.warnings.length > 1 ? 's' : ''})` : '';
  const settings = Object.entries(result.config).map(([name, value]) => [`${name}=${fileText(value)}`, result.origins[name as keyof typeof result.origins]]);
  const rows = [...settings, [`list file ${result.listFile.path}`, result.listFile.origin], [`lock file ${result.lockFile.path}`, result.lockFile.origin]];
  const width = Math.max(...rows.map(([left]) => left!.length));
  return (
    `${where}${warned}\n` +
    `defaults: ${result.profile.name} (${result.profile.chosenBy})\n` +
    `libvirt-guests reads its configuration on every run: nothing to reload. Settings in effect:\n` +
    rows.map(([left, origin]) => `  ${left!.padEnd(width)}  ${origin}`).join('\n')
  );
}
