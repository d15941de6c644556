// guestctl's help, laid out as virsh's: the global help (options, then the commands by group), one command's help
// (NAME, SYNOPSIS, DESCRIPTION, OPTIONS), or the commands of one group (`help monitor`).
import { OperationError } from '../errors.js';
import { nearestWord } from '../spelling.js';
import { defineCommand, GLOBAL_OPTIONS, GROUPS, type Group, type GuestctlCommand } from './command.js';

const column = (name: string, width: number, help: string): string => `    ${name.padEnd(width)}  ${help}`;

/** `name <arg> [--option]…`, virsh's SYNOPSIS line */
export function synopsis(command: GuestctlCommand): string {
  const args = command.args.map((a) => (a.optional ? `[<${a.name}>]` : `<${a.name}>`));
  return [command.name, ...args, ...command.options.map((o) => `[--${o.name}]`)].join(' ');
}

function groupText(table: readonly GuestctlCommand[], group: Group): string {
  const { title, keyword } = GROUPS.find((g) => g.keyword === group)!;
  const lines = table.filter((c) => c.group === group).map((c) => column(c.name, 29, c.summary));
  return ` ${title} (help keyword '${keyword}'):\n${lines.join('\n')}\n`;
}

function globalHelp(table: readonly GuestctlCommand[]): string {
  const options = GLOBAL_OPTIONS.map((o) => column(`-${o.short} | --${o.long}${'value' in o ? ` ${o.value}` : ''}`, 20, o.help));
  return [
    'Usage: guestctl [options] <command> [args]',
    '',
    '  options:',
    ...options,
    '',
    ...GROUPS.map((g) => groupText(table, g.keyword)),
    ' (specify help <group> for details about the commands in the group)',
    '',
    ' (specify help <command> for details about the command)',
    '',
  ].join('\n');
}

export function commandHelp(command: GuestctlCommand): string {
  const entries = [...command.args.map((a) => [`<${a.name}>`, a.help] as const), ...command.options.map((o) => [`--${o.name}`, o.help] as const)];
  const sections: [string, string[]][] = [
    ['NAME', [`    ${command.name} - ${command.summary}`]],
    ['SYNOPSIS', [`    ${synopsis(command)}`]],
    ['DESCRIPTION', [`    ${command.description}`]],
    ...(entries.length ? [['OPTIONS', entries.map(([name, help]) => column(name, 15, help))] as [string, string[]]] : []),
  ];
  return sections.map(([title, lines]) => `  ${title}\n${lines.join('\n')}\n\n`).join('');
}

/** The help command, over the table it belongs to (given lazily: the table holds this command too). */
export function helpCommand(table: () => readonly GuestctlCommand[]): GuestctlCommand {
  return defineCommand({
    name: 'help',
    group: 'guestctl',
    summary: 'print help',
    description: 'Prints the global help, the help of one command, or the commands of a group (domain, monitor, host, guestctl).',
    args: [{ name: 'command', help: 'a command, or a group keyword', kind: 'command', optional: true }],
    options: [],
    async run(context) {
      const topic = context.optionalArg('command');
      if (topic === undefined) return globalHelp(table());
      const command = table().find((c) => c.name === topic);
      if (command) return commandHelp(command);
      const group = GROUPS.find((g) => g.keyword === topic);
      if (group) return groupText(table(), group.keyword);
      const near = nearestWord(topic, [...table().map((c) => c.name), ...GROUPS.map((g) => g.keyword)]);
      // virsh exits 1 here, where an unknown command is a usage error (2)
      throw new OperationError('unknown-help-topic', `command or command group '${topic}' doesn't exist`, {
        hint: `${near ? `Did you mean '${near}'? ` : ''}'guestctl help' lists the commands and groups.`,
      });
    },
    render: (text) => text,
  });
}
