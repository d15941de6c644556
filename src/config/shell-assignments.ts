// Reads the shell-assignment syntax of /etc/sysconfig/libvirt-guests without ever executing it.
//
// The original sources the file with `.`, so a line like URIS=$(cmd) would run cmd as root. We accept the subset of
// shell that has a meaning without a shell: NAME=value, `export NAME=value`, single and double quotes (adjacent
// pieces join, as in a shell: "shut"'down' is shutdown), comments and blank lines. Everything whose meaning needs a
// shell (command substitution, $VAR expansion, backslash escapes and continuations, operators, unquoted spaces) is
// refused with file:line, the variable and what to write instead. What is left is literal text, so the value is the
// quotes' contents joined: exactly what a shell would assign.
import { ConfigError } from '../errors.js';
import { excerpt } from './excerpt.js';

export interface Assignment {
  name: string;
  value: string;
  line: number;
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
/** far above the longest variable; a longer "name" is garbage, and quoting it whole would flood the terminal */
const NAME_MAX = 64;
const BLANK = new Set([' ', '\t', '\r']);
const OPERATORS = new Set([';', '|', '&', '<', '>', '(', ')']);

class Scanner {
  pos = 0;
  line = 1;
  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  ch(): string {
    return this.text[this.pos] ?? '';
  }
  get eof(): boolean {
    return this.pos >= this.text.length;
  }

  skipBlanks(): void {
    while (!this.eof && BLANK.has(this.ch())) this.pos++;
  }

  skipComment(): void {
    while (!this.eof && this.ch() !== '\n') this.pos++;
  }

  readName(): string {
    NAME.lastIndex = this.pos;
    const name = NAME.exec(this.text)?.[0] ?? '';
    this.pos += name.length;
    if (name.length > NAME_MAX) {
      this.fail(`"${excerpt(name)}" (${name.length} characters) is too long to be a variable name`, this.line, undefined, 'Keep only the libvirt-guests variables, comments and blank lines.');
    }
    return name;
  }

  /** the rest of the line, as shown in a message */
  restOfLine(): string {
    const end = this.text.indexOf('\n', this.pos);
    return excerpt(this.text.slice(this.pos, end === -1 ? undefined : end).trim());
  }

  fail(message: string, line: number, variable?: string, hint?: string): never {
    throw new ConfigError(message, { file: this.file, line, variable }, { hint });
  }
}

const NOT_EXECUTED = 'this file is parsed, never executed by a shell';
const BOM = '\uFEFF';
/* eslint-disable no-control-regex */
/** unquoted text with no meaning to a shell, taken as it is */
const PLAIN_RUN = /[^ \t\r\n'"$`\\;|&<>()#~\u0000-\u001f\u007f]+/y;
/** inside quotes: what needs a shell, and control characters other than tab, newline and carriage return */
const FORBIDDEN_IN_DOUBLE = /[$`\\\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const FORBIDDEN_IN_SINGLE = /[\\\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/* eslint-enable no-control-regex */

/** Parses the whole file into assignments in order (a later assignment of the same name wins, as in a shell). */
export function parseShellAssignments(text: string, file: string): Assignment[] {
  // a byte order mark left by a Windows editor: a shell would take it for part of the first name
  const s = new Scanner(text.startsWith(BOM) ? text.slice(BOM.length) : text, file);
  const out: Assignment[] = [];
  while (!s.eof) {
    s.skipBlanks();
    if (s.eof) break;
    if (s.ch() === '\n') {
      s.pos++;
      s.line++;
      continue;
    }
    if (s.ch() === '#') {
      s.skipComment();
      continue;
    }
    out.push(...readStatement(s));
  }
  return out;
}

/** One line's worth of assignments (`A=1 B=2` is legal shell and sets both). */
function readStatement(s: Scanner): Assignment[] {
  const line = s.line;
  const found: Assignment[] = [];
  let exported = false;
  for (;;) {
    const start = s.pos;
    let name = s.readName();
    if (name === 'export' && found.length === 0 && !exported && BLANK.has(s.ch())) {
      exported = true;
      s.skipBlanks();
      name = s.readName();
      if (name === '') s.fail(`"export" must be followed by a variable name, found "${s.restOfLine()}"`, line);
      if (s.eof || s.ch() === '\n' || s.ch() === '#' || BLANK.has(s.ch())) {
        // `export NAME` alone marks an existing variable for export: nothing to assign.
        s.skipBlanks();
        if (!s.eof && s.ch() !== '\n' && s.ch() !== '#') s.fail(`unexpected "${s.restOfLine()}" after export ${name}`, line, name);
        return found;
      }
    }
    if (name === '' || s.ch() !== '=') {
      s.pos = start;
      const what = s.restOfLine();
      if (name !== '' && /^[ \t]*\+?=/.test(s.text.slice(start + name.length))) {
        s.fail(
          `"${what}" is not an assignment: write NAME=value with no spaces around "=" (${NOT_EXECUTED})`,
          line,
          name,
          `Write ${name}=value.`,
        );
      }
      s.fail(`"${what}" is not a NAME=value assignment; ${NOT_EXECUTED}, so commands are not run`, line, name || undefined, 'Keep only lines of the form NAME=value, comments and blank lines.');
    }
    s.pos++; // '='
    const { raw, value } = readValue(s, name, line);
    found.push({ name, value, line });
    s.skipBlanks();
    if (s.eof || s.ch() === '\n') return found;
    if (s.ch() === '#') {
      s.skipComment();
      return found;
    }
    // Another word on the line: fine if it is another assignment, otherwise a shell would run it as a command.
    const save = s.pos;
    const next = s.readName();
    const isAssignment = next !== '' && s.ch() === '=';
    s.pos = save;
    if (!isAssignment) {
      s.fail(
        `the value of ${name} has an unquoted space: a shell would run "${s.restOfLine()}" as a command`,
        line,
        name,
        `Quote the whole value: ${name}='${excerpt(raw)} ${s.restOfLine()}'`,
      );
    }
  }
}

/** Scans one value, refusing anything that needs a shell: its raw text, and the value a shell would assign. */
function readValue(s: Scanner, name: string, line: number): { raw: string; value: string } {
  const start = s.pos;
  let value = '';
  const needsShell = (what: string, hint: string): never =>
    s.fail(`the value of ${name} uses ${what}, which needs a shell; ${NOT_EXECUTED}`, line, name, hint);
  const literalHint = `Write the literal value, e.g. ${name}='…' with the text it should have.`;
  const backslash = (): never =>
    s.fail(`the value of ${name} contains a backslash; escapes are not supported`, line, name, `Write the value in single quotes without backslashes, e.g. ${name}='text'.`);
  const control = (c: string): never =>
    s.fail(`the value of ${name} contains the control character ${excerpt(c)}`, line, name, `Write the value with printable characters only.`);
  while (!s.eof && !BLANK.has(s.ch()) && s.ch() !== '\n') {
    PLAIN_RUN.lastIndex = s.pos;
    const run = PLAIN_RUN.exec(s.text);
    if (run) {
      value += run[0];
      s.pos += run[0].length;
      continue;
    }
    const c = s.ch();
    if (c === "'" || c === '"') {
      const end = s.text.indexOf(c, s.pos + 1);
      if (end === -1) s.fail(`the ${c === "'" ? 'single' : 'double'} quote opened here is never closed`, s.line, name, `Close the quote: ${name}=${c}…${c}`);
      const body = s.text.slice(s.pos + 1, end);
      const bad = (c === '"' ? FORBIDDEN_IN_DOUBLE : FORBIDDEN_IN_SINGLE).exec(body)?.[0];
      if (bad === '$') needsShell('"$" (variable expansion or command substitution)', literalHint);
      if (bad === '`') needsShell('backticks (command substitution)', literalHint);
      if (bad === '\\') backslash();
      if (bad !== undefined) control(bad);
      for (let i = body.indexOf('\n'); i !== -1; i = body.indexOf('\n', i + 1)) s.line++;
      value += body;
      s.pos = end + 1;
      continue;
    }
    if (c === '$') needsShell(s.text.startsWith('$(', s.pos) ? '"$(...)" (command substitution)' : '"$" (variable expansion)', literalHint);
    if (c === '`') needsShell('backticks (command substitution)', literalHint);
    if (c === '\\') {
      if (s.text[s.pos + 1] === '\n' || (s.text[s.pos + 1] === '\r' && s.text[s.pos + 2] === '\n')) {
        needsShell('a "\\" line continuation', `Put the whole value on one line, or inside quotes: ${name}='a b c'.`);
      }
      backslash();
    }
    if (OPERATORS.has(c)) needsShell(`the shell operator "${c}"`, `Quote the value if "${c}" is part of it: ${name}='…${c}…'.`);
    if (c === '#') s.fail(`the value of ${name} has an unquoted "#"`, line, name, `Quote the value if "#" is part of it (${name}='a#b'), or put a space before a comment.`);
    if (c === '~') needsShell('"~" (home directory expansion)', `Write the full path instead of "~".`);
    control(c); // the only characters PLAIN_RUN leaves
  }
  return { raw: s.text.slice(start, s.pos), value };
}
