/**
 * The generated graph, after onnxruntime's fusions (Attention, LayerNorm, BiasGelu), computes
 * what the independent TypeScript reference computes, for every head × signature.
 */
import { describe, expect, it } from 'vitest';
import type { ModelHead, ModelSignature } from '../../src/model/config.js';
import { referenceForward } from '../helpers/reference-roberta.js';
import { generateWeights } from '../../src/model/weights.js';
import { maxAbsDiff, runTestModel, testModel, type TestModel } from '../helpers/models.js';

const TOLERANCE = 1e-4;
const PAD = 1;

// roberta-base ids of "<s> This film is so bad </s>" and made-up rows over the whole vocabulary.
const SENTENCE = [0, 713, 822, 16, 98, 1099, 2];
const SAME_LENGTH = [SENTENCE, [0, 50264, 3, 4, 5, 40000, 2], [0, 100, 200, 300, 400, 500, 2]];
const RAGGED = [SENTENCE, [0, 1000, 2], [0, 11, 12, 13, 14, 15, 16, 17, 18, 19, 2]];

function padRight(rows: number[][]): { ids: number[][]; mask: number[][] } {
  const len = Math.max(...rows.map((r) => r.length));
  return {
    ids: rows.map((r) => [...r, ...Array<number>(len - r.length).fill(PAD)]),
    mask: rows.map((r) => [...r.map(() => 1), ...Array<number>(len - r.length).fill(0)]),
  };
}

async function expectMatch(model: TestModel, ids: number[][], mask?: number[][]): Promise<void> {
  const got = await runTestModel(model, ids, mask);
  const ref = referenceForward({
    config: model.config, head: model.head, weights: generateWeights(model.config, model.head, model.seed),
    inputIds: ids, attentionMask: model.signature === 'hf' ? mask : undefined,
  });
  if (model.head === 'sequence-classification') {
    expect(maxAbsDiff(got.logits!, ref.logits!)).toBeLessThan(TOLERANCE);
  } else {
    expect(maxAbsDiff(got.lastHidden!, ref.lastHidden!)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(got.pooled!, ref.pooled!)).toBeLessThan(TOLERANCE);
  }
}

const heads: ModelHead[] = ['sequence-classification', 'base'];
const signatures: ModelSignature[] = ['zoo', 'hf'];

describe.each(heads.flatMap((h) => signatures.map((s) => [h, s] as const)))('tiny %s model, %s signature', (head, signature) => {
  it('matches the reference on one sentence', async () => {
    await expectMatch(await testModel(head, signature), [SENTENCE]);
  });

  it('matches the reference on a batch of equal-length rows', async () => {
    await expectMatch(await testModel(head, signature), SAME_LENGTH);
  });

  if (signature === 'hf') {
    it('matches the reference on a right-padded batch, padding masked', async () => {
      const { ids, mask } = padRight(RAGGED);
      await expectMatch(await testModel(head, signature), ids, mask);
    });
  } else {
    // A zoo graph has no mask: padding is attended, and the reference (given no mask) does the same.
    it('matches the reference on a right-padded batch, padding attended', async () => {
      await expectMatch(await testModel(head, signature), padRight(RAGGED).ids);
    });
  }
});
