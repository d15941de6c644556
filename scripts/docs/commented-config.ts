// The shipped configuration files document every setting in the comment above its commented-out default
// (`#NAME=value`, `#key = value`); the man pages take their text from there, so the two cannot say different things.

interface DocumentedSetting {
  name: string;
  /** as written after the `#`: `URIS=default`, `log_level = 3` */
  example: string;
  /** the comment above it, joined into one paragraph */
  text: string;
  /** the section it belongs to (a comment block under a `####` rule), if any */
  section?: string;
}

export interface DocumentedFile {
  /** the file's opening comment, in paragraphs (lines as written) */
  intro: string[][];
  sections: { title: string; text: string }[];
  settings: DocumentedSetting[];
}

const SETTING = /^#([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*|=)(.*)$/;
const RULE = /^#{3,}\s*$|^# -{3,}/;

export function documentedSettings(file: string): DocumentedFile {
  const out: DocumentedFile = { intro: [], sections: [], settings: [] };
  let block: string[] = [];
  let section: string | undefined;
  let afterRule = false;
  let first = true;
  const flush = (): void => {
    if (block.length === 0) return;
    if (first) out.intro = paragraphs(block);
    else if (afterRule) {
      section = block[0]!;
      out.sections.push({ title: section, text: block.slice(1).filter(Boolean).join(' ') });
    }
    first = false;
    afterRule = false;
    block = [];
  };
  let pending: string | null = null; // the comment of the settings that follow it
  for (const raw of file.split('\n')) {
    const line = raw.trimEnd();
    const setting = SETTING.exec(line);
    if (setting) {
      if (block.length) {
        pending = block.filter(Boolean).join(' ');
        block = [];
      }
      out.settings.push({ name: setting[1]!, example: line.slice(1), text: pending ?? '', ...(section ? { section } : {}) });
      continue;
    }
    pending = null;
    if (RULE.test(line)) {
      flush();
      afterRule = true;
      const title = /^# -{3,}\s*(.*?)\s*-*$/.exec(line)?.[1];
      if (title) {
        section = title;
        out.sections.push({ title, text: '' });
        afterRule = false;
      }
    } else if (line.startsWith('#')) block.push(line.replace(/^#\s?/, ''));
    else flush();
  }
  flush();
  return out;
}

/** lines split at empty ones */
function paragraphs(lines: string[]): string[][] {
  const out: string[][] = [[]];
  for (const line of lines) {
    if (line === '') out.push([]);
    else out.at(-1)!.push(line);
  }
  return out.filter((p) => p.length > 0);
}
