/**
 * Batch invariance: a document's result inside a mixed-length dynamic
 * batch equals its result run alone, max abs diff <= 1e-4, for both signatures and heads.
 * zoo models have no attention mask: the batcher must group equal lengths for them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelHead, ModelSignature } from '../../src/model/config.js';
import { DynamicBatcher } from '../../src/worker/batcher.js';
import { OnnxEngine } from '../../src/worker/engine.js';
import type { RobertaTokenizer } from '../../src/model/tokenizer.js';
import { maxAbsDiff, testModel } from '../helpers/models.js';
import { VOCABULARIES, sampleReviews } from '../helpers/tokenizer-fixtures.js';

const cases: [ModelHead, ModelSignature, 'mean' | 'cls' | 'pooler' | undefined][] = [
  ['sequence-classification', 'hf', undefined],
  ['sequence-classification', 'zoo', undefined],
  ['base', 'hf', 'mean'],
  ['base', 'hf', 'pooler'],
  ['base', 'zoo', 'cls'],
];

let tokenizer: RobertaTokenizer;
let texts: string[];

beforeAll(async () => {
  tokenizer = await VOCABULARIES[0].load(512);
  const reviews = await sampleReviews();
  // Duplicates of some lengths so that zoo batches hold several equal-length documents too.
  texts = [...reviews.slice(0, 40), ...reviews.slice(0, 12).map((r) => r.toUpperCase())];
});

describe.each(cases)('%s / %s / pooling %s', (head, signature, pooling) => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    const m = await testModel(head, signature);
    engine = await OnnxEngine.open(m.path, { device: { kind: 'cpu' }, graphOptimization: 'all', intraOpThreads: 1, interOpThreads: 1, skipHash: true });
  });
  afterAll(async () => { await engine?.close(); });

  it('gives every document the result it gets alone', async () => {
    const encoded = await tokenizer.encodeBatch(texts);
    const alone: Float32Array[] = [];
    for (const e of encoded) {
      const out = await engine.run({ rows: 1, seq: e.ids.length, ids: e.ids, lengths: Int32Array.of(e.ids.length), pooling });
      alone.push(out.data);
    }
    const sizes: number[] = [];
    const batcher = new DynamicBatcher(
      engine,
      { maxBatchSize: 16, maxBatchTokens: 4096, maxWaitMs: 5, padId: tokenizer.padId, equalLengthOnly: signature === 'zoo', pooling },
      { onBatch: (s) => sizes.push(s.rows) },
    );
    const batched = await Promise.all(encoded.map((e) => batcher.submit(e.ids)));
    await batcher.close();
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    const lengths = new Set(encoded.map((e) => e.ids.length));
    if (signature === 'hf') expect(sizes.length).toBeLessThan(lengths.size); // mixed lengths shared batches
    for (let i = 0; i < texts.length; i++) {
      expect(maxAbsDiff(batched[i].vector, alone[i])).toBeLessThanOrEqual(1e-4);
    }
  });
});
