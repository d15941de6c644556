// One entry of guestctl's command table, after virsh's own (vshCmdDef): the command's name, group, help, options
// and arguments (its spec), what it does over the connection (run) and how its result reads (render). The table is
// the one source of the parser, the help, the man page and the bash completion.
import type { Connection, GuestRef } from '../connect/connection.js';
import type { GuestAdmin } from './admin.js';

/** virsh's help groups (`help KEYWORD` lists one) */
export const GROUPS = [
  { keyword: 'domain', title: 'Domain Management' },
  { keyword: 'monitor', title: 'Domain Monitoring' },
  { keyword: 'host', title: 'Host and Hypervisor' },
  { keyword: 'guestctl', title: 'guestctl itself' },
] as const;
export type Group = (typeof GROUPS)[number]['keyword'];

/** an option is a switch (`--all`); no command takes a value in an option yet */
interface OptionSpec {
  name: string;
  help: string;
}

interface ArgSpec {
  name: string;
  help: string;
  /** what the argument names: bash completion offers guest names, files or commands */
  kind: 'domain' | 'file' | 'command' | 'text';
  optional?: boolean;
}

/** how a result is to be shown */
interface View {
  /** -q: leave out headers and the messages that only confirm (virsh's vshPrintExtra) */
  quiet: boolean;
  /** the command's switches that choose what is shown (--uuid, --reason…) */
  flag(name: string): boolean;
}

export interface Context {
  /** a positional argument; the parser has made sure a required one is there */
  arg(name: string): string;
  /** an optional positional argument */
  optionalArg(name: string): string | undefined;
  flag(name: string): boolean;
  /** the connection, opened on first use and closed when the command is done */
  connection(): Promise<Connection>;
  /** the same connection's calls beyond Connection, or the error saying its backend cannot make them */
  admin(): Promise<GuestAdmin>;
  readFile(file: string): Promise<string>;
}

interface Output {
  /** what --json prints */
  data: unknown;
  text(view: View): string;
}

export interface GuestctlCommand {
  name: string;
  group: Group;
  /** one line, virsh's NAME line */
  summary: string;
  description: string;
  args: readonly ArgSpec[];
  options: readonly OptionSpec[];
  execute(context: Context): Promise<Output>;
}

interface Definition<D> extends Omit<GuestctlCommand, 'execute'> {
  run(context: Context): Promise<D>;
  /** the text virsh's handler prints; the closing blank line virsh adds after every command is not part of it */
  render(data: D, view: View): string;
}

export function defineCommand<D>({ run, render, ...spec }: Definition<D>): GuestctlCommand {
  return {
    ...spec,
    async execute(context) {
      const data = await run(context);
      return { data, text: (view) => render(data, view) };
    },
  };
}

export const JSON_OPTION: OptionSpec = { name: 'json', help: 'print the result as JSON' };
export const DOMAIN_ARG: ArgSpec = { name: 'domain', help: 'domain name or uuid', kind: 'domain' };

/** the guest named by the <domain> argument */
export async function lookupDomain(context: Context): Promise<GuestRef> {
  return (await context.connection()).lookup(context.arg('domain'));
}

/** a message that only confirms what was done: virsh leaves it out with -q */
export const confirm = (view: View, text: string): string => (view.quiet ? '' : text);

/** a `Label:   value` line of virsh's (printf's `%-15s %s`: dominfo, domjobinfo; nodeinfo's labels take 20) */
export const row = (label: string, value: string | number, width = 15): string => `${`${label}:`.padEnd(width)} ${value}`;

/** the options before the command, virsh's */
export const GLOBAL_OPTIONS = [
  { short: 'c', long: 'connect', value: 'URI', help: 'hypervisor connection URI (default: $LIBVIRT_DEFAULT_URI, then libvirt\'s own choice)' },
  { short: 'h', long: 'help', help: 'this help' },
  { short: 'q', long: 'quiet', help: 'quiet mode: no table headers, no messages that only confirm' },
  { short: 'r', long: 'readonly', help: 'connect read-only (the daemon\'s read-only socket)' },
  { short: 'v', long: 'version', help: 'the version of guestctl' },
] as const;
