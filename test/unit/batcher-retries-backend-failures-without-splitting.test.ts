/**
 * A retryable failure of the backend (its thread died) is nobody's document: the batcher
 * rejects every document of the batch with it and does not split the batch to look for a
 * poison document. A deterministic backend fails on demand (the batcher only sees the seam).
 */
import { expect, it } from 'vitest';
import { E, RobertaBatchError } from '../../src/shared/errors.js';
import type { InferenceBackend } from '../../src/worker/backend.js';
import { DynamicBatcher } from '../../src/worker/batcher.js';
import type { BatchOutput, BatchRequest, ModelInfo } from '../../src/worker/engine.js';

class DeadBackend implements InferenceBackend {
  readonly info = {} as ModelInfo;
  runs = 0;
  async run(_req: BatchRequest): Promise<BatchOutput> {
    this.runs++;
    // Worded without "inference thread": the batcher must decide by the code, not the message.
    throw E.INFERENCE('the backend exited with code 134');
  }
  async close(): Promise<void> {}
}

it('rejects the whole batch with the backend error, in one run, without splitting', async () => {
  const be = new DeadBackend();
  let splits = 0;
  const b = new DynamicBatcher(be, { maxBatchSize: 4, maxBatchTokens: 1_000, maxWaitMs: 10_000, padId: 1, equalLengthOnly: false }, { onSplit: () => { splits++; } });
  const results = await Promise.allSettled([1, 2, 3, 4].map((t) => b.submit(Int32Array.from([0, t, 2]))));
  await b.close();
  expect(be.runs).toBe(1);
  expect(splits).toBe(0);
  for (const r of results) {
    expect(r.status).toBe('rejected');
    const err = (r as PromiseRejectedResult).reason as RobertaBatchError;
    expect(err).toMatchObject({ code: 'E_INFERENCE', retryable: true });
  }
});
