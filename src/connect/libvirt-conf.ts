// The client's libvirt.conf: only `uri_default` matters here. The file is parsed, never executed or sourced.
import { ConfigError } from '../errors.js';

/**
 * The value of `uri_default` in a libvirt.conf text, or null when the key is absent.
 * libvirt's conf syntax: `key = "value"` or `key = 'value'`, `#` comments; the last assignment wins.
 */
export function parseUriDefault(text: string, file: string): string | null {
  let value: string | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^\s*uri_default\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const q = /^(?:"([^"]*)"|'([^']*)')\s*(?:#.*)?$/.exec(m[1]!);
    if (!q) {
      throw new ConfigError(`uri_default must be a quoted string, found ${m[1] === '' ? 'nothing' : m[1]}`, {
        file,
        line: i + 1,
        variable: 'uri_default',
      }, { hint: `write it as uri_default = "qemu:///system"` });
    }
    value = q[1] ?? q[2]!;
  }
  return value;
}
