// Human text for reload / force-reload.
import type { ConfigCheckResult } from '../orchestrator/config-check.js';

export function renderConfigCheck(result: ConfigCheckResult): string {
  const where = result.configFile === null ? 'no configuration file found; every variable has its default' : `${result.configFile} is valid`;
  const settings = Object.entries(result.config)
    .map(([name, value]) => `  ${name}=${Array.isArray(value) ? value.join(' ') : typeof value === 'boolean' ? (value ? 1 : 0) : value}`)
    .join('\n');
  return `${where}${result.warnings.length ? ` (${result.warnings.length} warning${result.warnings.length > 1 ? 's' : ''})` : ''}\n` +
    `libvirt-guests reads its configuration on every run: nothing to reload. Settings in effect:\n${settings}`;
}
