// Writing man(7) pages: text is escaped once here, so that whatever a description says renders as written.

/** Escapes text for roff: backslashes, minus signs (so options copy as typed), and a leading control character. */
function text(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

/** One man page, built from blocks of roff lines (no blank lines: roff takes them as spacing requests). */
export class ManPage {
  private readonly lines: string[] = [];

  constructor(name: string, section: number, source: string, manual: string) {
    this.lines.push(`.TH ${name.toUpperCase()} ${section} "" "${source}" "${manual}"`);
  }

  section(title: string): this {
    this.lines.push(`.SH ${title.toUpperCase()}`);
    return this;
  }

  subsection(title: string): this {
    this.lines.push(`.SS "${text(title)}"`);
    return this;
  }

  /** prose lines and lines indented by two spaces or more (shown as typed), in their order */
  mixed(lines: string[]): this {
    let i = 0;
    while (i < lines.length) {
      const indented = /^\s{2,}/.test(lines[i]!);
      let j = i;
      while (j < lines.length && /^\s{2,}/.test(lines[j]!) === indented) j++;
      if (indented) this.literal(lines.slice(i, j).map((l) => l.replace(/^\s{2}/, '')));
      else this.paragraph(...lines.slice(i, j));
      i = j;
    }
    return this;
  }

  paragraph(...sentences: string[]): this {
    const body = sentences.join(' ').trim();
    if (body !== '') this.lines.push('.PP', text(body));
    return this;
  }

  /** a term (bold) and its description, indented */
  item(term: string, description: string): this {
    // a text line, not `.B`: macro arguments would swallow the quotes of a term like `key = "value"`
    this.lines.push('.TP', `\\fB${text(term)}\\fR`, description.trim() === '' ? '\\&' : text(description.trim()));
    return this;
  }

  /** lines shown as typed (commands, file excerpts) */
  literal(lines: string[]): this {
    this.lines.push('.PP', '.nf', '.RS 4', ...lines.map(text), '.RE', '.fi');
    return this;
  }

  /** roff written by the caller (already escaped) */
  raw(...lines: string[]): this {
    this.lines.push(...lines);
    return this;
  }

  render(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
