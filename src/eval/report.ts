/** The human-readable eval report: counts, metrics, confusion matrix, per-class table. */
import type { EvalReport } from './evaluate.js';

const int = (n: number): string => n.toLocaleString('en-US');
const num = (x: number): string => x.toFixed(4);

function table(rows: string[][], rightFrom = 1): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => '  ' + r.map((cell, c) => (c < rightFrom ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
}

export function formatReport(r: EvalReport): string {
  const excluded = Object.entries(r.excludedByLabel).sort((a, b) => b[1] - a[1]);
  const lines = [
    '',
    `roberta-batch eval — ${r.data}${r.model ? ` with ${r.model.name} (${r.model.signature}, ${r.model.device})` : ''}`,
    `  rows      ${int(r.rows.read)} read, ${int(r.rows.scored)} in the metrics` +
      `${r.rows.failed ? `, ${int(r.rows.failed)} failed (no prediction)` : ''}${r.rows.unreadable ? `, ${int(r.rows.unreadable)} unreadable lines` : ''}`,
  ];
  if (r.rows.excluded) {
    lines.push(`  excluded: ${int(r.rows.excluded)} rows with labels not produced by the model: ${excluded.map(([l, n]) => (excluded.length > 1 ? `${l} (${int(n)})` : l)).join(', ')}`);
  }
  lines.push(
    `  labels    ${r.labels.map((l, i) => `${i} = ${l}`).join(', ')} (gold "${r.labelField}" matched by name or index)`,
    '',
    `  accuracy  ${num(r.metrics.accuracy)}`,
    `  macro-F1  ${num(r.metrics.macroF1)}`,
    `  MCC       ${num(r.metrics.mcc)}`,
    '',
    '  confusion matrix (rows: gold, columns: predicted)',
    ...table([
      ['gold \\ predicted', ...r.labels, 'total'],
      ...r.labels.map((l, i) => [l, ...r.confusion.counts[i].map(int), int(r.metrics.perClass[i].support)]),
      ['total', ...r.metrics.perClass.map((c) => int(c.predicted)), int(r.metrics.n)],
    ]),
    '',
    ...table([
      ['class', 'precision', 'recall', 'F1', 'support'],
      ...r.metrics.perClass.map((c) => [c.label, num(c.precision), num(c.recall), num(c.f1), int(c.support)]),
    ]),
    '',
    `  ${r.documentsPerSecond.toFixed(1)} docs/s over ${r.elapsedSeconds.toFixed(1)} s (model load included)${r.predictions ? `; predictions in ${r.predictions}` : ''}`,
    '',
  );
  return lines.join('\n');
}
