/**
 * A job's documents go to the batcher as one submission (submitMany): one promise, settled once
 * every document has an outcome, each in its place: a result, or the DocumentError of a document
 * the model fails on alone (its batch-mates are scored). A backend failure is nobody's document:
 * the submission rejects. A deterministic backend fails on demand (the batcher only sees the seam).
 */
import { expect, it } from 'vitest';
import { DocumentError, E, type RobertaBatchError } from '../../src/shared/errors.js';
import type { InferenceBackend } from '../../src/worker/backend.js';
import { DynamicBatcher } from '../../src/worker/batcher.js';
import type { BatchOutput, BatchRequest, ModelInfo } from '../../src/worker/engine.js';

const POISON = 666;

/** Row r's vector is [first content id, length]; a batch holding POISON throws like a model would. */
class EchoBackend implements InferenceBackend {
  readonly info = {} as ModelInfo;
  runs = 0;
  dead = false;
  async run(req: BatchRequest): Promise<BatchOutput> {
    this.runs++;
    if (this.dead) throw E.INFERENCE('the backend exited with code 134');
    const data = new Float32Array(req.rows * 2);
    for (let r = 0; r < req.rows; r++) {
      if (req.ids[r * req.seq + 1] === POISON) throw new Error('Non-zero status code returned while running Gather node');
      data[r * 2] = req.ids[r * req.seq + 1];
      data[r * 2 + 1] = req.lengths[r];
    }
    return { kind: 'logits', rows: req.rows, width: 2, data, runMs: 1 };
  }
  async close(): Promise<void> {}
}

const doc = (first: number, len: number) => Int32Array.from({ length: len }, (_, i) => (i === 0 ? 0 : i === 1 ? first : 7));

it('gives each document its own result or error, in submission order, and settles once', async () => {
  const be = new EchoBackend();
  const b = new DynamicBatcher(be, { maxBatchSize: 4, maxBatchTokens: 1_000, maxWaitMs: 5, padId: 1, equalLengthOnly: false });
  // Lengths out of order, so batches are cut in another order than the submission's.
  const ids = [doc(11, 9), doc(12, 3), doc(POISON, 5), doc(14, 3), doc(15, 9), doc(16, 4)];
  let settled = 0;
  const p = b.submitMany(ids).finally(() => { settled++; });
  const out = await p;
  await b.close();
  expect(settled).toBe(1);
  expect(out).toHaveLength(ids.length);
  out.forEach((r, i) => {
    if (i === 2) {
      expect(r).toBeInstanceOf(DocumentError);
      expect((r as DocumentError).code).toBe('E_DOCUMENT_INFERENCE');
    } else {
      expect(r).not.toBeInstanceOf(DocumentError);
      expect(Array.from((r as { vector: Float32Array }).vector)).toEqual([ids[i][1], ids[i].length]);
    }
  });
});

it('rejects the whole submission once when the backend fails, and submit() still rejects a lone poison document', async () => {
  const be = new EchoBackend();
  const b = new DynamicBatcher(be, { maxBatchSize: 2, maxBatchTokens: 1_000, maxWaitMs: 5, padId: 1, equalLengthOnly: false });
  await expect(b.submit(doc(POISON, 4))).rejects.toMatchObject({ code: 'E_DOCUMENT_INFERENCE' });
  be.dead = true;
  const err = (await b.submitMany([doc(1, 3), doc(2, 3), doc(3, 3), doc(4, 5)]).catch((e: unknown) => e)) as RobertaBatchError;
  await b.close();
  expect(err).toMatchObject({ code: 'E_INFERENCE', retryable: true });
  expect(await b.submitMany([doc(5, 3)]).catch((e: unknown) => e)).toMatchObject({ code: 'E_SHUTDOWN' });
});
