// Prints the figures that `npm run reliability` collected (one JSON line per suite, see test/helpers/reliability.ts)
// as a Markdown table, the form the README's Reliability section quotes.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'reliability-report.jsonl';
if (!existsSync(file)) {
  process.stderr.write(`${file}: no report (run the suites with RELIABILITY_REPORT=${file} first)\n`);
  process.exit(1);
}
const rows = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Record<string, unknown>);
process.stdout.write('| suite | scale | figures |\n|---|---|---|\n');
for (const { suite, scale, ...figures } of rows) {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  process.stdout.write(`| ${String(suite)} | ${String(scale)} | ${text} |\n`);
}
const lost = rows.filter((r) => Number(r.losses ?? 0) > 0 || Number(r.errors ?? 0) > 0);
process.stdout.write(lost.length === 0 ? `\nall ${rows.length} suites: zero losses\n` : `\nLOSSES in: ${lost.map((r) => String(r.suite)).join(', ')}\n`);
process.exit(lost.length === 0 ? 0 : 1);
