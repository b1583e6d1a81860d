/**
 * Embeddings pooled by `mean` average real tokens only (never padding),
 * `cls` is the <s> state, `pooler` the model's pooled output, L2 normalisation gives unit
 * vectors; sentiment is a softmax over the logits with configurable labels. Checked against
 * the independent TypeScript reference forward pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceForward } from '../helpers/reference-roberta.js';
import { generateWeights } from '../../src/model/weights.js';
import { OnnxEngine } from '../../src/worker/engine.js';
import { labelsFor, sentimentFromLogits, softmax } from '../../src/worker/postprocess.js';
import { maxAbsDiff, testModel, type TestModel } from '../helpers/models.js';

const rows = [[0, 713, 16, 41, 1246, 2], [0, 20920, 232, 2]];
const seq = 6;
const ids = Int32Array.from([...rows[0], ...rows[1], 1, 1]);
const lengths = Int32Array.of(6, 4);
let model: TestModel;
let engine: OnnxEngine;
let ref: ReturnType<typeof referenceForward>;

beforeAll(async () => {
  model = await testModel('base', 'hf');
  engine = await OnnxEngine.open(model.path, { device: { kind: 'cpu' }, graphOptimization: 'all', intraOpThreads: 1, interOpThreads: 1, skipHash: true });
  ref = referenceForward({ config: model.config, head: 'base', weights: generateWeights(model.config, 'base', model.seed), inputIds: rows });
});
afterAll(async () => { await engine?.close(); });

describe('embedding pooling on a padded batch', () => {
  it('mean averages the real tokens of each row only', async () => {
    const out = await engine.run({ rows: 2, seq, ids, lengths, pooling: 'mean' });
    rows.forEach((r, i) => {
      const h = ref.lastHidden![i];
      const mean = Array.from({ length: 64 }, (_, k) => h.reduce((a, t) => a + t[k], 0) / r.length);
      expect(maxAbsDiff(out.data.subarray(i * 64, (i + 1) * 64), mean)).toBeLessThanOrEqual(1e-4);
    });
  });

  it('cls takes the <s> state and pooler the pooled output', async () => {
    const cls = await engine.run({ rows: 2, seq, ids, lengths, pooling: 'cls' });
    const pooled = await engine.run({ rows: 2, seq, ids, lengths, pooling: 'pooler' });
    for (let i = 0; i < 2; i++) {
      expect(maxAbsDiff(cls.data.subarray(i * 64, (i + 1) * 64), ref.lastHidden![i][0])).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(pooled.data.subarray(i * 64, (i + 1) * 64), ref.pooled![i])).toBeLessThanOrEqual(1e-4);
    }
  });

  it('normalize gives unit vectors in the same direction', async () => {
    const raw = await engine.run({ rows: 2, seq, ids, lengths, pooling: 'mean' });
    const unit = await engine.run({ rows: 2, seq, ids, lengths, pooling: 'mean', normalize: true });
    for (let i = 0; i < 2; i++) {
      const v = raw.data.subarray(i * 64, (i + 1) * 64);
      const u = unit.data.subarray(i * 64, (i + 1) * 64);
      const norm = Math.hypot(...v);
      expect(Math.hypot(...u)).toBeCloseTo(1, 5);
      expect(maxAbsDiff(u, Array.from(v, (x) => x / norm))).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('sentiment postprocessing', () => {
  it('softmax gives the label, its probability and keeps the logits', () => {
    const r = sentimentFromLogits(Float32Array.of(-1, 2), labelsFor(2));
    expect(r.label).toBe('positive');
    expect(r.score).toBeCloseTo(Math.exp(2) / (Math.exp(2) + Math.exp(-1)), 6);
    expect(r.logits).toEqual([-1, 2]);
    expect(sentimentFromLogits(Float32Array.of(3, 0.5), labelsFor(2)).label).toBe('negative');
  });

  it('names N labels label_i unless configured', () => {
    expect(labelsFor(3)).toEqual(['label_0', 'label_1', 'label_2']);
    expect(sentimentFromLogits(Float32Array.of(0, 0, 5), labelsFor(3, ['neg', 'neu', 'pos'])).label).toBe('pos');
  });

  it('is stable for large logits', () => {
    const p = softmax([1000, 1001]);
    expect(p[0] + p[1]).toBeCloseTo(1, 12);
    expect(Number.isFinite(p[0])).toBe(true);
  });
});
