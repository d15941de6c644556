// guestctl's entry point (bin/guestctl.js): read the command line against the command table, run the command over
// a connection opened when it first needs one, print its result (text as virsh prints it, or --json), and map
// errors to exit codes: 0 ok, 1 failure, 2 usage. Every error is one message on stderr.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openConnectionDetailed, type OpenedConnection } from '../connect/index.js';
import { EXIT, GuestsError, OperationError } from '../errors.js';
import { renderError } from '../ui/text.js';
import type { Context, GuestctlCommand } from './command.js';
import { parseInvocation } from './invocation.js';
import { createRemoteAdmin } from './remote-admin.js';
import { COMMANDS } from './table.js';

/** libvirt's rule: -c, then LIBVIRT_DEFAULT_URI, then `default` (resolved by src/connect) */
function chooseUri(given: string | null, env: NodeJS.ProcessEnv): string {
  return given ?? env.LIBVIRT_DEFAULT_URI ?? 'default';
}

/** the version in the package.json nearest above this file (the same in dist/ and under tsx) */
function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    if (path.dirname(dir) === dir) throw new Error('guestctl is not inside its package (no package.json above it)');
    dir = path.dirname(dir);
  }
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The connection of one command: opened on first use (help and --version need none), closed at the end. */
function lazyConnection(uri: string, readonly: boolean, command: GuestctlCommand) {
  let opening: Promise<OpenedConnection> | undefined;
  const open = (): Promise<OpenedConnection> => (opening ??= openConnectionDetailed(uri, { readonly }));
  return {
    connection: async () => (await open()).connection,
    async admin() {
      const { connection, remote } = await open();
      if (remote) return createRemoteAdmin(remote);
      throw new OperationError('unsupported', `'${command.name}' is not available over the ${connection.backend} backend for ${connection.uri}`, {
        hint: 'Use virsh for this host, or a URI the native client speaks (guest+unix://, qemu:///system, …).',
      });
    },
    close: async () => opening?.then((o) => o.connection.close(), () => undefined),
  };
}

async function main(argv: string[]): Promise<number> {
  const invocation = parseInvocation(argv, COMMANDS);
  if (invocation.kind === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  const { command, args, flags, quiet } = invocation;
  const session = lazyConnection(chooseUri(invocation.uri, process.env), invocation.readonly, command);
  const context: Context = {
    arg: (name) => args.get(name) ?? '',
    optionalArg: (name) => args.get(name),
    flag: (name) => flags.has(name),
    connection: session.connection,
    admin: session.admin,
    readFile: (file) => readFile(file, 'utf8'),
  };
  try {
    const output = await command.execute(context);
    if (flags.has('json')) {
      process.stdout.write(`${JSON.stringify(output.data, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`);
    } else {
      const text = output.text({ quiet, flag: context.flag });
      // virsh closes every command with a blank line, except in quiet mode
      process.stdout.write(quiet ? (text === '' || text.endsWith('\n') ? text : `${text}\n`) : `${text}\n`);
    }
    return EXIT.OK;
  } finally {
    await session.close();
  }
}

function report(error: unknown): number {
  const err = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(`${renderError(err)}\n`);
  return err instanceof GuestsError ? err.exit : EXIT.FAILURE;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(report(error)),
);
