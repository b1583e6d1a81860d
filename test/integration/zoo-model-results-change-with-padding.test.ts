/**
 * Why the engine must batch zoo models by sequence length: a zoo model has no attention_mask,
 * so pad tokens take part in attention and a document's logits depend on how much padding its
 * batch needed. An hf model masks them, so its results do not depend on the batch.
 */
import { expect, it } from 'vitest';
import { maxAbsDiff, runTestModel, testModel } from '../helpers/models.js';

const SHORT = [0, 713, 822, 16, 98, 1099, 2];
const LONG = [0, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 2];
const PADDED_SHORT = [...SHORT, ...Array<number>(LONG.length - SHORT.length).fill(1)];
const MASK_SHORT = [...SHORT.map(() => 1), ...Array<number>(LONG.length - SHORT.length).fill(0)];

it('changes a zoo model\'s logits for a document when its batch pads it', async () => {
  const model = await testModel('sequence-classification', 'zoo');
  const alone = await runTestModel(model, [SHORT]);
  const batched = await runTestModel(model, [PADDED_SHORT, LONG]);
  expect(maxAbsDiff(alone.logits![0], batched.logits![0])).toBeGreaterThan(1e-3);
});

it('keeps an hf model\'s logits for a document when its batch pads it', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const alone = await runTestModel(model, [SHORT]);
  const batched = await runTestModel(model, [PADDED_SHORT, LONG], [MASK_SHORT, LONG.map(() => 1)]);
  expect(maxAbsDiff(alone.logits![0], batched.logits![0])).toBeLessThan(1e-5);
});

it('gives equal-length zoo rows the same logits alone and batched', async () => {
  const model = await testModel('sequence-classification', 'zoo');
  const other = SHORT.map((t, i) => (i === 0 || i === SHORT.length - 1 ? t : t + 7));
  const alone = await runTestModel(model, [SHORT]);
  const batched = await runTestModel(model, [SHORT, other]);
  expect(maxAbsDiff(alone.logits![0], batched.logits![0])).toBeLessThan(1e-5);
});
