/**
 * `roberta-batch eval` on a small labelled file with the tiny generated model
 * (random weights: the accuracy means nothing, so only the report's internal consistency is
 * asserted): rows with labels the model cannot produce are excluded and counted, the metrics
 * follow from the confusion matrix, and the matrix from the per-document predictions.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { matthewsCorrelation } from '../../src/eval/metrics.js';
import type { EvalReport } from '../../src/eval/evaluate.js';
import type { OkRecord } from '../../src/shared/types.js';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Gold labels as files have them: names in any case, 0/1 indexes (numbers and strings), a label
// the 2-label model cannot produce, and a row without a label.
const GOLD = ['positive', 'negative', 1, 0, 'Positive', '0', 'neutral', 'negative', 'neutral', 1];
const docs: { id: string; text: string; label?: string | number }[] = syntheticDocs(60, 5, 'ev').map((d, i) => (i === 59 ? d : { ...d, label: GOLD[i % GOLD.length] }));
const expectedExcluded = { neutral: docs.filter((d) => d.label === 'neutral').length, '(missing)': 1 };
const goldOf = (label: unknown): string | undefined =>
  label === 1 || label === '1' || String(label).toLowerCase() === 'positive' ? 'positive'
    : label === 0 || label === '0' || label === 'negative' ? 'negative' : undefined;

it('reports metrics that follow from its confusion matrix, excluding and counting unmappable labels', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const data = path.join(dir, 'labelled.jsonl');
  writeFileSync(data, toJsonl(docs));
  const predictions = path.join(dir, 'predictions.jsonl');
  const common = ['--label-field', 'label', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash', '--intra-op-threads', '1'];

  const res = await runCli(['eval', '--data', data, ...common, '--json', '--predictions', predictions], { LOG_LEVEL: 'warn' });
  expect(res.code, res.output.slice(-2000)).toBe(0);
  const report = JSON.parse(res.output.slice(res.output.indexOf('{\n'))) as EvalReport;

  expect(report.labels).toEqual(['negative', 'positive']);
  expect(report.rows).toMatchObject({ read: 60, excluded: expectedExcluded.neutral + 1, failed: 0, unreadable: 0 });
  expect(report.excludedByLabel).toEqual(expectedExcluded);
  const { counts } = report.confusion;
  const total = counts.flat().reduce((a, b) => a + b, 0);
  expect(total).toBe(report.rows.scored);
  expect(report.rows.scored + report.rows.excluded).toBe(60);

  // Metrics from the matrix.
  expect(report.metrics.accuracy).toBeCloseTo((counts[0][0] + counts[1][1]) / total, 12);
  expect(report.metrics.mcc).toBeCloseTo(matthewsCorrelation(report.confusion), 12);
  const f1 = [0, 1].map((i) => (2 * counts[i][i]) / (counts[i][0] + counts[i][1] + counts[0][i] + counts[1][i]));
  expect(report.metrics.macroF1).toBeCloseTo((f1[0] + f1[1]) / 2, 12);
  expect(report.metrics.mcc).toBeGreaterThanOrEqual(-1);
  expect(report.metrics.mcc).toBeLessThanOrEqual(1);

  // Rows of the matrix = gold labels of the file; cells = the predictions joined by id.
  const predicted = new Map(readFileSync(predictions, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OkRecord).map((r) => [r.id, r.sentiment!.label]));
  expect(predicted.size).toBe(60);
  const expected = [[0, 0], [0, 0]];
  for (const d of docs) {
    const g = goldOf(d.label);
    if (g) expected[report.labels.indexOf(g)][report.labels.indexOf(predicted.get(d.id)!)]++;
  }
  expect(counts).toEqual(expected);

  // The same file as CSV, read as a table: the same numbers.
  const csv = path.join(dir, 'labelled.csv');
  const q = (s: unknown) => (s === undefined ? '' : `"${String(s).replace(/"/g, '""')}"`);
  writeFileSync(csv, `id,text,label\n${docs.map((d) => `${d.id},${q(d.text)},${q(d.label)}`).join('\n')}\n`);
  const table = await runCli(['eval', '--data', csv, ...common], { LOG_LEVEL: 'warn' });
  expect(table.code, table.output.slice(-2000)).toBe(0);
  expect(table.output).toContain(`excluded: ${report.rows.excluded} rows with labels not produced by the model: neutral (${expectedExcluded.neutral}), (missing) (1)`);
  expect(table.output).toMatch(new RegExp(`MCC\\s+${report.metrics.mcc.toFixed(4).replace('.', '\\.')}`));
  expect(table.output).toMatch(/gold \\ predicted\s+negative\s+positive\s+total/);
}, 120_000);
