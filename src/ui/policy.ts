// `policy show` as a table (each value marked with where it came from, a legend below) and `policy set|unset` as
// the element stored.
import { ATTRIBUTE_NAMES } from '../orchestrator/policy/attributes.js';
import type { PolicySetResult, PolicyShowResult } from '../orchestrator/result.js';

/** one column per attribute, in the attributes' table's order */
const COLUMNS = ATTRIBUTE_NAMES;
const MARK = { metadata: '', config: '*', default: '°' } as const;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

export function renderPolicyShow(r: PolicyShowResult): string {
  const rows: string[][] = [['GUEST', 'URI', ...COLUMNS.map((c) => c.toUpperCase())]];
  const problems: string[] = [];
  const variables = new Set<string>();
  for (const u of r.uris) {
    for (const g of u.guests) {
      rows.push([
        g.name,
        u.uri,
        ...COLUMNS.map((c) => {
          const v = g.policy[c]!;
          if (v.variable) variables.add(v.variable);
          if (c === 'order' && v.source !== 'metadata') return 'default tier';
          return `${String(v.value)}${MARK[v.source]}`;
        }),
      ]);
      for (const p of g.problems) problems.push(`${g.name} (${u.uri}): ${p}`);
    }
  }
  const lines = rows.length > 1 ? table(rows) : ['no guests'];
  lines.push(
    '',
    `Values without a mark come from the guest's metadata (<policy> in ${r.namespace});`,
    `* from the configuration (${[...variables].join(', ') || 'ON_SHUTDOWN, SHUTDOWN_TIMEOUT, ON_BOOT'}); ° built-in defaults.`,
    'Stop goes down the tiers (the default tier first), start up them (the default tier last).',
  );
  for (const u of r.uris) if (!u.reachable) lines.push(`${u.uri}: not reached (${u.error ?? 'unknown error'})`);
  for (const m of r.missing) lines.push(`no guest "${m}" on any URI`);
  if (problems.length > 0) lines.push('', 'Ignored in the metadata:', ...problems.map((p) => `  ${p}`));
  return lines.join('\n');
}

export function renderPolicySet(r: PolicySetResult): string {
  const what = r.metadata === null ? 'no policy (removed)' : r.metadata;
  return `${r.dryRun ? 'Dry run: would store' : 'Stored'} for ${r.name} on ${r.uri}: ${what}`;
}
