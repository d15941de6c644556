// Run the real virsh (and our guestctl) as subprocesses; never through a shell.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { programArgs } from './guestd.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runProgram(file: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 60_000, env: { ...process.env, LC_ALL: 'C', ...options.env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export const virsh = (uri: string, ...args: string[]): Promise<RunResult> => runProgram('virsh', ['-c', uri, ...args]);

export const guestctl = (uri: string, ...args: string[]): Promise<RunResult> =>
  runProgram(process.execPath, [...programArgs('src/guestctl/main.ts'), '-c', uri, ...args]);

/** a process guest's domain XML; behaviour attributes go on <gd:behavior> */
export function guestXml(name: string, behavior: Record<string, string | number> = {}, memoryMiB = 4): string {
  const attrs = Object.entries(behavior)
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return `<domain type='process'>
  <name>${name}</name>
  <memory unit='MiB'>${memoryMiB}</memory>
  <metadata><gd:behavior xmlns:gd="urn:guestd:behavior:1"${attrs}/></metadata>
</domain>
`;
}

/** guestXml written to `dir`/`name`.xml, for `virsh define` or `create`: the file's path */
export function guestXmlFile(dir: string, name: string, behavior: Record<string, string | number> = {}, memoryMiB = 4): string {
  const file = path.join(dir, `${name}.xml`);
  writeFileSync(file, guestXml(name, behavior, memoryMiB));
  return file;
}
