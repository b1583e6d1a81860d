/** The arithmetic behind docs/BENCHMARKS.md, and the report replacing only its own section. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineCeilingTable, ratioVerdict, renderSection, writeReport } from '../../src/bench/report.js';
import { allocatorOf } from '../../src/bench/machine.js';
import type { PipelineRun, ReferenceMeasurement } from '../../src/bench/pipeline-ceiling.js';
import type { BenchResult } from '../../src/bench/run.js';
import { cosine, lengthSortedBatches, meanBatchSize, median, paddedTokens, paddingFraction, percentile, ratio, roundsRatio, tokensPerSecond } from '../../src/bench/stats.js';
import { parseWorkerMetrics } from '../../src/bench/worker-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench arithmetic', () => {
  it('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBe(0);
  });

  it('ratios are undefined when a side was not measured', () => {
    expect(ratio(90, 100)).toBeCloseTo(0.9);
    expect(ratio(undefined, 100)).toBeUndefined();
    expect(ratio(1, 0)).toBeUndefined();
  });

  it('length-sorted batches, padding and mean batch size', () => {
    const lengths = [10, 3, 7, 3, 12];
    const batches = lengthSortedBatches(lengths, 2);
    expect(batches).toEqual([[1, 3], [2, 0], [4]]);
    const padded = batches.reduce((a, b) => a + paddedTokens(b, lengths), 0);
    expect(padded).toBe(2 * 3 + 2 * 10 + 12);
    const t = { docs: 5, usefulTokens: 35, paddedTokens: padded, batches: 3, seconds: 2 };
    expect(paddingFraction(t)).toBeCloseTo(1 - 35 / 38);
    expect(meanBatchSize(t)).toBeCloseTo(5 / 3);
    expect(tokensPerSecond(t)).toBe(17.5);
  });

  it('cosine similarity', () => {
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(() => cosine([1], [1, 2])).toThrow(RangeError);
  });

  it('targets: >= min, <= max, not measured', () => {
    expect(ratioVerdict({ name: 'x', value: 0.95, min: 0.9, load: 0 })).toMatch(/^met/);
    expect(ratioVerdict({ name: 'x', value: 0.8, min: 0.9, load: 0 })).toMatch(/^NOT met/);
    expect(ratioVerdict({ name: 'x', value: 0.06, max: 0.05, load: 0 })).toMatch(/^NOT met/);
    expect(ratioVerdict({ name: 'x', value: undefined, min: 0.9, load: 0 })).toBe('not measured');
  });

  it('reads batch, token and event-loop series from a worker scrape', () => {
    const m = parseWorkerMetrics([
      'roberta_batch_batch_size_sum 640',
      'roberta_batch_batch_size_count 20',
      'roberta_batch_tokens_total{kind="useful"} 17000',
      'roberta_batch_tokens_total{kind="padded"} 20000',
      'roberta_batch_event_loop_delay_p99_seconds 0.0123',
      'roberta_batch_documents_total{status="ok",task="sentiment"} 640',
    ].join('\n'));
    expect(m).toEqual({ batches: 20, batchRowsSum: 640, usefulTokens: 17000, paddedTokens: 20000, eventLoopDelayP99Seconds: 0.0123, documentsOk: 640 });
  });
});

function fakeResult(mode: 'quick' | 'full', docsPerSecond: number): BenchResult {
  return {
    mode, precision: 'fp32', startedAt: '2026-01-01T00:00:00.000Z', elapsedSeconds: 10,
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 8, node: 'v20', onnxruntime: '1.30.0', bullmq: '6', platform: 'linux', allocator: 'jemalloc (LD_PRELOAD)' },
    loadAtStart: [1, 1, 1], corpus: 'c', docs: 10, meanTokens: 27, model: 'm', workerArgs: [],
    rows: [{ key: 'ceiling', label: 'ceiling', docsPerSecond, tokensPerSecond: docsPerSecond * 27, load: 1.5 }],
    ratios: [{ name: 'b/a', value: 0.95, min: 0.9, load: 1.5 }], queuePath: [], memory: {}, notes: [],
  };
}

it('a run replaces its own section and keeps the rest of docs/BENCHMARKS.md', () => {
  const file = path.join(dir, 'BENCHMARKS.md');
  writeFileSync(file, '# Benchmarks\n\nHand-written notes that must survive.\n');
  writeReport(file, fakeResult('quick', 11));
  writeReport(file, fakeResult('full', 22));
  writeReport(file, fakeResult('quick', 33));
  const text = readFileSync(file, 'utf8');
  expect(text).toContain('Hand-written notes that must survive.');
  expect(text.match(/<!-- bench:quick-fp32:start -->/g)).toHaveLength(1);
  expect(text).toContain('| ceiling | 33.0 |');
  expect(text).not.toContain('| ceiling | 11.0 |');
  expect(text).toContain('| ceiling | 22.0 |');
  expect(text).toMatch(/\| b\/a \| 0\.950 \| met \(≥ 0\.9\) \| 1\.50 \|/);
});

it('a pipeline-ceiling-only run gets its own section with every measurement in order, CPU figure and target', () => {
  const file = path.join(dir, 'CEILING.md');
  writeFileSync(file, '# Benchmarks\n');
  writeReport(file, fakeResult('full', 22));
  const run: PipelineRun = { round: 1, docsPerJob: 64, workers: 1, docs: 5000, seconds: 1, docsPerSecond: 7500, workerCpuUsPerDoc: 120, workerMainThreadCpuUsPerDoc: 41, exporterCpuUsPerDoc: 30, redisCpuUsPerDoc: 20, benchCpuUsPerDoc: 2.5, meanBatchSize: 32, load: 1.25, warmup: { docs: 5000, seconds: 0.8, docsPerSecond: 6250 } };
  const refs: ReferenceMeasurement[] = [
    { kind: 'noop', docsPerJob: 64, docsPerSecond: 230_000, round: 0, load: 1 },
    { kind: 'tokenizer', docsPerSecond: 30_000, round: 1, around: { docsPerJob: 64, workers: 1, when: 'before' }, load: 1 },
    { kind: 'tokenizer', docsPerSecond: 28_000, round: 1, around: { docsPerJob: 64, workers: 1, when: 'after' }, load: 1 },
  ];
  const r: BenchResult = {
    ...fakeResult('quick', 0), only: 'ceiling', rows: [],
    ratios: [
      { name: 'pipeline ceiling: 64 per job / tokenizer-only encodeBatch (docs/s)', value: 0.25, min: 0.5, load: 1 },
      roundsRatio('this build / baseline build, 1 worker, 64 per job (docs/s)', [1.2, 0.9, 1.1], 1),
    ],
    pipelineCeiling: {
      model: 'micro model: 1 layer, hidden 8', docs: 5000, meanTokens: 27, redis: 'private', rounds: 1, warmupDocs: 5000,
      measurements: [{ type: 'reference', ...refs[0] }, { type: 'reference', ...refs[1] }, { type: 'run', ...run }, { type: 'reference', ...refs[2] }],
      references: refs, runs: [run], ratios: [],
    },
  };
  const text = writeReport(file, r);
  expect(text).toContain('<!-- bench:quick-ceiling:start -->');
  expect(text).toContain('Pipeline ceiling (micro model: 1 layer, hidden 8; 5000 documents per run');
  // Measured warm, and the warm-up's own rate (cold processes) is there too.
  expect(text).toContain('each run measured after a warm-up pass of 5000 other documents through the same processes');
  expect(pipelineCeilingTable({ ...r.pipelineCeiling!, warmupDocs: 0 })[0]).toContain('cold processes, no warm-up pass');
  // Another model (bench --ceiling-model base) is named as such.
  expect(pipelineCeilingTable({ ...r.pipelineCeiling!, model: 'base model: roberta-base-shaped, fp32' })[0]).toMatch(/^Pipeline ceiling \(base model: roberta-base-shaped, fp32; 5000 documents/);
  expect(text).toContain('| ceiling | 22.0 |'); // the full run's section is kept
  expect(text).toContain('| — | BullMQ no-op processor, 64 per job (concurrency 64) | 230,000 | — | — | — | — | — | — | 1.00 | — |');
  const before = text.indexOf('| 1 | tokenizer alone: encodeBatch of 256 texts, before the 64-per-job run | 30,000 |');
  const measured = text.indexOf('| 1 | roberta-batch, 1 worker process, 64 per job | 7,500 | 120 | 41 | 30 | 20 | 2.5 | 32.0 | 1.25 | 6,250 |');
  const after = text.indexOf('| 1 | tokenizer alone: encodeBatch of 256 texts, after the 64-per-job run | 28,000 |');
  expect(before).toBeGreaterThan(0);
  expect(measured).toBeGreaterThan(before);
  expect(after).toBeGreaterThan(measured);
  expect(text).toMatch(/\| pipeline ceiling: 64 per job \/ tokenizer-only encodeBatch \(docs\/s\) \| 0\.250 \| NOT met \(≥ 0\.5\) \|/);
  // A reference of a two-worker run says so: 64x1 and 64x2 each have their own.
  const two = pipelineCeilingTable({ ...r.pipelineCeiling!, measurements: [{ type: 'reference', ...refs[1], around: { docsPerJob: 64, workers: 2, when: 'before' } }] });
  expect(two.join('\n')).toContain('tokenizer alone: encodeBatch of 256 texts, before the 64-per-job 2-worker run');
  // The base-model ceiling has its own section, next to the micro model's.
  const withBase = writeReport(file, { ...r, ceilingModel: 'base', pipelineCeiling: { ...r.pipelineCeiling!, model: 'base model: roberta-base-shaped, fp32' } });
  expect(withBase).toContain('<!-- bench:quick-ceiling:start -->');
  expect(withBase).toContain('<!-- bench:quick-ceiling-base-fp32:start -->');
  expect(withBase).toMatch(/### pipeline ceiling, base model fp32, quick/);
  // Three rounds: the median, then the range.
  expect(text).toContain('| this build / baseline build, 1 worker, 64 per job (docs/s) | 1.100 (0.900–1.200) | — |');
});

it('a ratio over rounds is their median, undefined when a round was not measured', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeUndefined();
  expect(roundsRatio('x', [0.4, 0.6], 1, 0.5)).toEqual({ name: 'x', value: 0.5, min: 0.5, range: [0.4, 0.6], load: 1 });
  expect(roundsRatio('x', [0.4], 1)).toEqual({ name: 'x', value: 0.4, load: 1 });
  expect(roundsRatio('x', [0.4, undefined], 1).value).toBeUndefined();
});

it('names the allocator a run used, from LD_PRELOAD, in the machine line', () => {
  expect(allocatorOf(undefined)).toBe('glibc malloc');
  expect(allocatorOf('')).toBe('glibc malloc');
  expect(allocatorOf('/usr/lib/x86_64-linux-gnu/libjemalloc.so.2')).toBe('jemalloc (LD_PRELOAD)');
  expect(allocatorOf('/opt/x/libfoo.so:/usr/local/lib/libmimalloc.so')).toBe('mimalloc (LD_PRELOAD)');
  expect(allocatorOf('/opt/x/libfoo.so')).toBe('glibc malloc');
  expect(renderSection(fakeResult('quick', 10))).toContain('BullMQ 6, jemalloc (LD_PRELOAD).');
});
