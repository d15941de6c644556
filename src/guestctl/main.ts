// guestctl's entry point (bin/guestctl.js): parse, open the connection, run one command, print its result (text or
// --json), map errors to exit codes: 0 ok, 1 failure, 2 usage.
import { readFile } from 'node:fs/promises';
import { openConnection } from '../connect/index.js';
import { EXIT, GuestsError } from '../errors.js';
import { COMMANDS, parseInvocation, usage } from './args.js';
import { runCommand } from './commands.js';

/** libvirt's rule: -c, then LIBVIRT_DEFAULT_URI, then `default` (resolved by src/connect) */
export function chooseUri(given: string | null, env: NodeJS.ProcessEnv): string {
  return given ?? env.LIBVIRT_DEFAULT_URI ?? 'default';
}

async function main(argv: string[]): Promise<number> {
  const inv = parseInvocation(argv);
  if (inv.command === 'help') {
    const topic = inv.args.command;
    const spec = topic ? COMMANDS[topic] : undefined;
    process.stdout.write(spec ? `${topic}: ${spec.summary}\n` : usage());
    return EXIT.OK;
  }
  const uri = chooseUri(inv.uri, process.env);
  // `uri` needs no procedure (virsh sends none either), but it does need the URI to be valid and reachable
  const connection = await openConnection(uri, { readonly: inv.readonly });
  try {
    const result = await runCommand(inv, connection, { readFile: (f) => readFile(f, 'utf8') });
    if (inv.flags.json) process.stdout.write(`${JSON.stringify(result.data, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`);
    else process.stdout.write(result.text);
    return EXIT.OK;
  } finally {
    await connection.close();
  }
}

function report(error: unknown): number {
  if (error instanceof GuestsError) {
    process.stderr.write(`error: ${error.describe()}\n`);
    return error.exit;
  }
  process.stderr.write(`error: ${(error as Error)?.message ?? String(error)}\n`);
  return EXIT.FAILURE;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(report(error)),
);
