/** Random weights must still separate inputs, or tests of the pipeline could not tell documents apart. */
import { expect, it } from 'vitest';
import { maxAbsDiff, runTestModel, testModel } from '../helpers/models.js';

const A = [0, 713, 822, 16, 98, 205, 2]; // "This film is so good"
const B = [0, 713, 822, 16, 98, 1099, 2]; // "This film is so bad"

it('gives sentences one token apart logits that differ by more than 0.01', async () => {
  const { logits } = await runTestModel(await testModel('sequence-classification', 'hf'), [A, B]);
  expect(maxAbsDiff(logits![0], logits![1])).toBeGreaterThan(1e-2);
});

it('gives sentences one token apart pooled embeddings that differ by more than 0.01', async () => {
  const { pooled } = await runTestModel(await testModel('base', 'zoo'), [A, B]);
  expect(maxAbsDiff(pooled![0], pooled![1])).toBeGreaterThan(1e-2);
});
