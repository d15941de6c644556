// Reads the shell-assignment syntax of /etc/sysconfig/libvirt-guests without ever executing it.
//
// The original sources the file with `.`, so a line like URIS=$(cmd) would run cmd as root. We accept the subset of
// shell that has a meaning without a shell: NAME=value, `export NAME=value`, single and double quotes, comments and
// blank lines. Everything whose meaning needs a shell (command substitution, $VAR expansion, backslash escapes and
// continuations, operators, unquoted spaces) is refused with file:line, the variable and what to write instead.
// Values are decoded by dotenv; this scanner first refuses every construct where dotenv and a shell disagree
// (unquoted `#` inside a word, backslashes, values made of several quoted pieces), so the two give the same value.
import { parse as dotenvParse } from 'dotenv';
import { ConfigError } from '../errors.js';

export interface Assignment {
  name: string;
  value: string;
  line: number;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
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
    const start = this.pos;
    if (!NAME_START.test(this.ch())) return '';
    while (!this.eof && NAME_CHAR.test(this.ch())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  restOfLine(): string {
    const end = this.text.indexOf('\n', this.pos);
    return this.text.slice(this.pos, end === -1 ? undefined : end).trim();
  }

  fail(message: string, line: number, variable?: string, hint?: string): never {
    throw new ConfigError(message, { file: this.file, line, variable }, { hint });
  }
}

const NOT_EXECUTED = 'this file is parsed, never executed by a shell';

/** Parses the whole file into assignments in order (a later assignment of the same name wins, as in a shell). */
export function parseShellAssignments(text: string, file: string): Assignment[] {
  const s = new Scanner(text, file);
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
    const raw = readValue(s, name, line);
    found.push({ name, value: decode(name, raw), line });
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
        `Quote the whole value: ${name}='${raw}${s.restOfLine() ? ' ' + s.restOfLine() : ''}'`,
      );
    }
  }
}

/** Scans the raw text of one value, refusing anything that needs a shell. Returns it unchanged. */
function readValue(s: Scanner, name: string, line: number): string {
  const start = s.pos;
  let pieces = 0;
  let lastWasPlain = false;
  const needsShell = (what: string, hint: string): never =>
    s.fail(`the value of ${name} uses ${what}, which needs a shell; ${NOT_EXECUTED}`, line, name, hint);
  const literalHint = `Write the literal value, e.g. ${name}='…' with the text it should have.`;
  while (!s.eof && !BLANK.has(s.ch()) && s.ch() !== '\n') {
    const c = s.ch();
    if (c === "'" || c === '"') {
      const quoteLine = s.line;
      s.pos++;
      while (!s.eof && s.ch() !== c) {
        if (s.ch() === '\n') s.line++;
        if (c === '"' && s.ch() === '$') needsShell('"$" (variable expansion or command substitution)', literalHint);
        if (c === '"' && s.ch() === '`') needsShell('backticks (command substitution)', literalHint);
        if (s.ch() === '\\') {
          s.fail(
            `the value of ${name} contains a backslash; escapes are not supported`,
            line,
            name,
            `Write the value in single quotes without backslashes, e.g. ${name}='text'.`,
          );
        }
        s.pos++;
      }
      if (s.eof) s.fail(`the ${c === "'" ? 'single' : 'double'} quote opened here is never closed`, quoteLine, name, `Close the quote: ${name}=${c}…${c}`);
      s.pos++;
      pieces++;
      lastWasPlain = false;
      continue;
    }
    if (c === '$') needsShell(s.text.startsWith('$(', s.pos) ? '"$(...)" (command substitution)' : '"$" (variable expansion)', literalHint);
    if (c === '`') needsShell('backticks (command substitution)', literalHint);
    if (c === '\\') {
      if (s.text[s.pos + 1] === '\n' || (s.text[s.pos + 1] === '\r' && s.text[s.pos + 2] === '\n')) {
        needsShell('a "\\" line continuation', `Put the whole value on one line, or inside quotes: ${name}='a b c'.`);
      }
      s.fail(`the value of ${name} contains a backslash; escapes are not supported`, line, name, `Write the value in single quotes without backslashes, e.g. ${name}='text'.`);
    }
    if (OPERATORS.has(c)) needsShell(`the shell operator "${c}"`, `Quote the value if "${c}" is part of it: ${name}='…${c}…'.`);
    if (c === '#') s.fail(`the value of ${name} has an unquoted "#"`, line, name, `Quote the value if "#" is part of it (${name}='a#b'), or put a space before a comment.`);
    if (c === '~') needsShell('"~" (home directory expansion)', `Write the full path instead of "~".`);
    if (!lastWasPlain) pieces++;
    lastWasPlain = true;
    s.pos++;
  }
  if (pieces > 1) {
    s.fail(
      `the value of ${name} is made of several quoted and unquoted pieces`,
      line,
      name,
      `Write the whole value in one pair of quotes: ${name}='…'.`,
    );
  }
  return s.text.slice(start, s.pos);
}

function decode(name: string, raw: string): string {
  if (raw === '') return '';
  return dotenvParse(`${name}=${raw}`)[name] ?? '';
}
