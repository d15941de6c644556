// Bash completion for libvirt-guests and guestctl, generated from the same data as their help: oclif's manifest and
// guestctl's command table. Guest names come from the connection itself, over its read-only socket (guestctl -r).
import { GLOBAL_OPTIONS, GROUPS } from '../../src/guestctl/command.js';
import { COMMANDS } from '../../src/guestctl/table.js';
import type { ManifestCommand } from './man-pages.js';

const quote = (words: string[]): string => words.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ');

export function libvirtGuestsCompletion(commands: ManifestCommand[]): string {
  const visible = commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id));
  const cases = visible.map((c) => {
    const flags = Object.values(c.flags).flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]);
    return `    ${c.id}) flags=(${quote([...flags, '--help', '-h'])}) ;;`;
  });
  const valued = visible.flatMap((c) => Object.values(c.flags)).filter((f) => f.type === 'option');
  const choices = [...new Map(valued.filter((f) => f.options).map((f) => [f.name, f.options!])).entries()].map(
    ([name, options]) => `    --${name}) COMPREPLY=($(compgen -W ${JSON.stringify(options.join(' '))} -- "$cur")); return ;;`,
  );
  const files = [...new Set(valued.filter((f) => !f.options).map((f) => `--${f.name}`))];
  // topics (`policy show`): the first word is the topic, the second its command; oclif's id joins them with ':'
  const words = [...new Set(visible.map((c) => c.id.split(':')[0]!))];
  const topics = [...new Set(visible.filter((c) => c.id.includes(':')).map((c) => c.id.split(':')[0]!))];
  const topicCases = topics.map(
    (t) => `    ${t}) COMPREPLY=($(compgen -W ${JSON.stringify(visible.filter((c) => c.id.startsWith(`${t}:`)).map((c) => c.id.slice(t.length + 1)).join(' '))} -- "$cur")); return ;;`,
  );
  return `# bash completion for libvirt-guests (generated from its commands; do not edit)
_libvirt_guests() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd= topic= flags=() w
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in
      -*) ;;
      *) if [ -n "$topic" ]; then cmd=$topic:$w; topic=; break; fi
         case " ${topics.join(' ')} " in *" $w "*) topic=$w ;; *) cmd=$w; break ;; esac ;;
    esac
  done
  case "$prev" in
${choices.join('\n')}
    ${files.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [ -n "$topic" ]; then
    case "$topic" in
${topicCases.join('\n')}
    esac
  fi
  if [ -z "$cmd" ]; then
    COMPREPLY=($(compgen -W ${JSON.stringify(words.join(' '))} -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "\${flags[*]}" -- "$cur"))
}
complete -F _libvirt_guests libvirt-guests
`;
}

export function guestctlCompletion(): string {
  const names = COMMANDS.map((c) => c.name);
  const cases = COMMANDS.map((c) => `    ${c.name}) flags=(${quote([...c.options.map((o) => `--${o.name}`), '--help'])}); arg=${c.args[0]?.kind ?? ''} ;;`);
  const globals = GLOBAL_OPTIONS.flatMap((o) => [`-${o.short}`, `--${o.long}`]);
  return `# bash completion for guestctl (generated from its command table; do not edit)
_guestctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd= uri=() flags=() arg= i w positional=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case "$w" in
      -c|--connect) uri=(-c "\${COMP_WORDS[i+1]}"); ((i++)) ;;
      --connect=*) uri=(-c "\${w#--connect=}") ;;
      -*) ;;
      *) if [ -z "$cmd" ]; then cmd=$w; else ((positional++)); fi ;;
    esac
  done
  case "$prev" in
    -c|--connect) COMPREPLY=($(compgen -W "guest:///system guest:///session qemu:///system qemu:///session" -- "$cur")); return ;;
  esac
  if [ -z "$cmd" ]; then
    COMPREPLY=($(compgen -W ${JSON.stringify([...globals, ...names].join(' '))} -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "\${flags[*]}" -- "$cur")); return; fi
  case "$arg" in
    domain) [ "$positional" -eq 0 ] && COMPREPLY=($(compgen -W "$(guestctl -r "\${uri[@]}" list --all --name 2>/dev/null)" -- "$cur")) ;;
    file) COMPREPLY=($(compgen -f -- "$cur")) ;;
    command) [ "$positional" -eq 0 ] && COMPREPLY=($(compgen -W ${JSON.stringify([...names, ...GROUPS.map((g) => g.keyword)].join(' '))} -- "$cur")) ;;
  esac
}
complete -F _guestctl guestctl
`;
}
