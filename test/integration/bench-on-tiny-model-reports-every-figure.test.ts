/**
 * The benchmark harness, miniature: `runBench` with the tiny preset, 64 documents and a
 * 256-document queue path, int8 (which adds the fp32 ceiling and the embedding similarity).
 * Every figure the report promises must be there and plausible; speed targets are not
 * asserted (a tiny model on a loaded 2-core machine says nothing about them).
 */
import { expect, it } from 'vitest';
import { renderSection } from '../../src/bench/report.js';
import { runBench } from '../../src/bench/run.js';
import { redisUrl } from '../helpers/queues.js';

it('produces every row, ratio, memory and similarity figure', async () => {
  const lines: string[] = [];
  const r = await runBench({ quick: true, precision: 'int8', preset: 'tiny', docs: 64, queueDocs: 256, ceilingDocs: 128, redisUrl: redisUrl(), log: (l) => lines.push(l) });

  expect(r.rows.map((x) => x.key)).toEqual(expect.arrayContaining(['ceiling', 'ceiling-after', 'ceiling-fp32', 'e2e', 'e2e-1', 'naive']));
  // transformers.js is measured, or the reason it could not load is reported.
  const tjs = r.rows.filter((x) => x.key.startsWith('tjs-'));
  if (tjs.length === 0) expect(r.notes.join('\n')).toMatch(/transformers\.js not measured: .+/);
  else expect(tjs.map((x) => x.key)).toEqual(['tjs-single', 'tjs-32']);
  for (const row of [...r.rows, ...r.queuePath]) {
    expect(row.docsPerSecond, row.label).toBeGreaterThan(0);
    expect(row.load).toBeGreaterThanOrEqual(0);
  }
  const e2e = r.rows.find((x) => x.key === 'e2e')!;
  expect(e2e.tokensPerSecond).toBeGreaterThan(0);
  expect(e2e.meanBatchSize).toBeGreaterThan(1);
  expect(e2e.paddingFraction).toBeGreaterThanOrEqual(0);
  expect(e2e.peakRssBytes).toBeGreaterThan(50 * 2 ** 20);
  expect(e2e.eventLoopDelayP99Ms).toBeGreaterThan(0);

  expect(r.queuePath.map((x) => x.key)).toEqual(['noop-1', 'noop-32', 'rb-1', 'rb-64']);
  expect(r.memory.largestBatchPeakRssBytes).toBeGreaterThanOrEqual(e2e.peakRssBytes!);
  expect(r.memory.growth).toBeGreaterThan(-0.5);
  expect(r.similarity!.meanPooled.min).toBeGreaterThan(0.9);
  expect(r.similarity!.pooler.min).toBeGreaterThan(0.9);

  const names = r.ratios.map((x) => x.name).join('\n');
  for (const re of [/^b\/a:/m, /^b1\/a:/m, /^a after \/ a before/m, /^b\/a\(fp32\)/m, /^b\/c:/m, /^b\/d:/m, /queue path: 1 per job/, /queue path: 64 per job/, /memory: worker RSS growth/, /min cosine \(mean-pooled\)/]) expect(names).toMatch(re);
  for (const x of r.ratios.filter((y) => !/transformers\.js/.test(y.name) || tjs.length)) expect(x.value, x.name).toBeDefined();

  const pc = r.pipelineCeiling!;
  expect(pc.runs.map((x) => x.docsPerJob)).toEqual([1, 64]);
  for (const x of pc.runs) expect(x.docsPerSecond).toBeGreaterThan(0);
  expect(names).toMatch(/pipeline ceiling: 64 per job \/ tokenizer-only encodeBatch/);

  expect(r.machine.cores).toBeGreaterThan(0);
  expect(r.machine.onnxruntime).toMatch(/^\d+\.\d+/);
  const md = renderSection(r);
  expect(md).toContain('| ratio | value | target | load (1 min) |');
  expect(md).toMatch(/\| tokenizer alone: encodeBatch of 256 texts, before the 64-per-job run \| [\d,]+ \|/);
  expect(lines.some((l) => /\(b\) roberta-batch end to end/.test(l))).toBe(true);
}, 180_000);
