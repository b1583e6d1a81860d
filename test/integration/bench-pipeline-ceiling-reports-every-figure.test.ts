/**
 * The pipeline-ceiling section, miniature: 320 documents on the micro model, one worker
 * process and `results --follow` on a private Redis, at 1 and 64 documents per job. Every
 * figure must be there and plausible; no rate is asserted (this machine's speed says nothing).
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadCorpus } from '../../src/bench/corpus.js';
import { microModel } from '../../src/bench/models.js';
import { measurePipelineCeiling } from '../../src/bench/pipeline-ceiling.js';
import { repoRoot } from '../../src/bench/run.js';

it('measures the tokenizer, BullMQ no-op and the worker at 1 and 64 per job, with CPU per document', async () => {
  const root = repoRoot();
  const corpus = loadCorpus(root, 320);
  const model = await microModel(root, () => {});
  expect(path.basename(model)).toMatch(/^micro-h8-l1-/);
  // A warm-up pass of 64 documents before each run (its own ids: the run still exports all 320).
  const r = await measurePipelineCeiling({ model, tokenizerDir: corpus.tokenizerDir, docs: corpus.docs, warmupDocs: 64 });

  expect(r.redis).toBe('private');
  expect(r.docs).toBe(320);
  expect(r.warmupDocs).toBe(64);
  expect(r.meanTokens).toBeGreaterThan(2);
  // In order: the no-op set, then each run between two measurements of its reference.
  expect(r.measurements.map((m) => (m.type === 'run' ? `run ${m.docsPerJob}` : m.kind === 'noop' ? `noop ${m.docsPerJob}` : 'tokenizer'))).toEqual([
    'noop 1', 'noop 32', 'noop 64', 'noop 1', 'run 1', 'noop 1', 'tokenizer', 'run 64', 'tokenizer',
  ]);
  for (const m of r.references) expect(m.docsPerSecond).toBeGreaterThan(0);
  expect(r.runs.map((x) => [x.docsPerJob, x.workers])).toEqual([[1, 1], [64, 1]]);
  for (const x of r.runs) {
    expect(x.docs).toBe(320);
    expect(x.warmup?.docs).toBe(64);
    expect(x.warmup!.docsPerSecond).toBeGreaterThan(0);
    expect(x.docsPerSecond).toBeGreaterThan(0);
    expect(x.workerCpuUsPerDoc).toBeGreaterThan(0);
    // The main thread is one of the worker's threads: at most all of them. The kernel counts
    // CPU in 10 ms ticks and the two are read one after the other, so allow one tick either way
    // (and 0: this run is short).
    expect(x.workerMainThreadCpuUsPerDoc).toBeGreaterThanOrEqual(0);
    expect(x.workerMainThreadCpuUsPerDoc!).toBeLessThanOrEqual(x.workerCpuUsPerDoc! + 10_000 / x.docs);
    expect(x.exporterCpuUsPerDoc).toBeGreaterThanOrEqual(0);
    expect(x.redisCpuUsPerDoc).toBeGreaterThan(0);
    // The bench's own CPU while it waits for the output lines (it may round to 0 on a short run).
    expect(x.benchCpuUsPerDoc).toBeGreaterThanOrEqual(0);
    expect(x.meanBatchSize).toBeGreaterThanOrEqual(1);
  }
  const names = r.ratios.map((x) => x.name);
  expect(names).toEqual(expect.arrayContaining([
    'pipeline ceiling: 64 per job / tokenizer-only encodeBatch (docs/s)',
    'pipeline ceiling: 1 per job / BullMQ no-op 1 per job (docs/s)',
  ]));
  for (const x of r.ratios) expect(x.value, x.name).toBeGreaterThan(0);
}, 180_000);
