/** text-diff: a small unified-style line diff (LCS), for showing an object before and after a planned change. */

/** Lines of `after` against `before`, prefixed `  `, `- ` or `+ `; unchanged runs longer than `context` around changes are elided. */
export function lineDiff(before: string, after: string, context = 3): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push(`- ${a[i++]}`);
    else ops.push(`+ ${b[j++]}`);
  }
  const keep = ops.map((op, k) => !op.startsWith('  ') || ops.slice(Math.max(0, k - context), k + context + 1).some((x) => !x.startsWith('  ')));
  const out: string[] = [];
  ops.forEach((op, k) => {
    if (keep[k]) out.push(op);
    else if (out[out.length - 1] !== '  …') out.push('  …');
  });
  return out.filter((l) => l !== '  ' && l !== '+ ' && l !== '- ');
}
