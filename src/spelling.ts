// The known word nearest to a mistyped one, for "did you mean" hints: configuration variables, commands, flags.

/**
 * The word of `known` closest to `word`, when it is close enough: `maxDistance` edits (by default one per three
 * letters of `word`, at least one), where swapping two neighbouring letters counts as one edit.
 */
export function nearestWord(word: string, known: Iterable<string>, maxDistance = Math.max(1, Math.floor(word.length / 3))): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = editDistance(word, candidate);
    if (d <= maxDistance && (!best || d < best.distance)) best = { word: candidate, distance: d };
  }
  return best?.word;
}

/** optimal string alignment: insertions, deletions, substitutions and transpositions of neighbours */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row[j] = d;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
