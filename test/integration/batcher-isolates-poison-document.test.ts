/**
 * A document that makes the batch's session run throw fails alone; its neighbours succeed.
 * The poison is a token id past the model's embedding table: onnxruntime's Gather rejects it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DocumentError } from '../../src/shared/errors.js';
import { DynamicBatcher, type BatchItemResult } from '../../src/worker/batcher.js';
import { OnnxEngine } from '../../src/worker/engine.js';
import { testModel } from '../helpers/models.js';

let engine: OnnxEngine;
beforeAll(async () => {
  const m = await testModel('sequence-classification', 'hf');
  engine = await OnnxEngine.open(m.path, { device: { kind: 'cpu' }, graphOptimization: 'all', intraOpThreads: 1, interOpThreads: 1, skipHash: true });
});
afterAll(async () => { await engine?.close(); });

it('fails only the poison document and splits the batch to find it', async () => {
  let splits = 0;
  const batcher = new DynamicBatcher(
    engine,
    { maxBatchSize: 8, maxBatchTokens: 4096, maxWaitMs: 50, padId: 1, equalLengthOnly: false },
    { onSplit: () => { splits++; } },
  );
  const docs = Array.from({ length: 8 }, (_, i) => Int32Array.from([0, 100 + i, 200 + i, 300, 2]));
  docs[5] = Int32Array.from([0, 100, 60_000, 300, 2]); // vocabulary has 50265 rows
  const results = await Promise.allSettled(docs.map((d) => batcher.submit(d)));
  await batcher.close();
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
  const failed = results[5];
  expect(failed.status).toBe('rejected');
  const reason = (failed as PromiseRejectedResult).reason as DocumentError;
  expect(reason).toBeInstanceOf(DocumentError);
  // A poison document is its own failure (not retried), not an infrastructure E_INFERENCE.
  expect(reason.code).toBe('E_DOCUMENT_INFERENCE');
  expect(reason.retryable).toBe(false);
  expect(reason.reason).toMatch(/^the model failed on this document alone: /);
  expect(splits).toBeGreaterThanOrEqual(3); // 8 -> 4 -> 2 -> 1
  // The good documents still came out of shared batches, not one by one.
  const sizes = results.filter((r): r is PromiseFulfilledResult<BatchItemResult> => r.status === 'fulfilled').map((r) => r.value.batchSize);
  expect(Math.max(...sizes)).toBeGreaterThanOrEqual(4);
});
