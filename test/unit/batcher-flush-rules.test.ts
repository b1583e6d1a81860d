/**
 * When a batch leaves: full by size, full by padded-token budget, or its oldest document
 * waited max-wait-ms; inside the window documents are sorted by length. A deterministic
 * backend records the batches (the batcher only sees the InferenceBackend seam).
 */
import { describe, expect, it } from 'vitest';
import type { InferenceBackend } from '../../src/worker/backend.js';
import { DynamicBatcher } from '../../src/worker/batcher.js';
import type { BatchOutput, BatchRequest, ModelInfo } from '../../src/worker/engine.js';

class RecordingBackend implements InferenceBackend {
  readonly info = {} as ModelInfo;
  batches: { rows: number; seq: number; lengths: number[] }[] = [];
  constructor(private readonly delayMs = 0) {}
  async run(req: BatchRequest): Promise<BatchOutput> {
    this.batches.push({ rows: req.rows, seq: req.seq, lengths: Array.from(req.lengths) });
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    // Each row's "logit" is its first token: lets the test check results reach the right document.
    const data = new Float32Array(req.rows);
    for (let r = 0; r < req.rows; r++) data[r] = req.ids[r * req.seq];
    return { kind: 'logits', rows: req.rows, width: 1, data, runMs: this.delayMs };
  }
  async close(): Promise<void> {}
}

const doc = (tag: number, len: number) => Int32Array.from({ length: len }, (_, i) => (i === 0 ? tag : 5));
const opts = { maxBatchSize: 4, maxBatchTokens: 1_000, maxWaitMs: 10_000, padId: 1, equalLengthOnly: false };

describe('DynamicBatcher', () => {
  it('sends a batch as soon as it holds max-batch-size documents', async () => {
    const be = new RecordingBackend();
    const b = new DynamicBatcher(be, opts);
    const t0 = performance.now();
    const res = await Promise.all([1, 2, 3, 4].map((t) => b.submit(doc(t, 5))));
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(be.batches).toEqual([{ rows: 4, seq: 5, lengths: [5, 5, 5, 5] }]);
    expect(res.map((r) => r.vector[0])).toEqual([1, 2, 3, 4]);
    await b.close();
  });

  it('sends a batch when the next document would exceed the padded-token budget', async () => {
    const be = new RecordingBackend();
    const b = new DynamicBatcher(be, { ...opts, maxBatchSize: 100, maxBatchTokens: 30 });
    const p = [1, 2, 3].map((t) => b.submit(doc(t, 10)));
    await Promise.all(p); // 3 x 10 = 30 fills the budget exactly
    expect(be.batches[0]).toMatchObject({ rows: 3, seq: 10 });
    await b.close();
  });

  it('sends a partial batch once its oldest document waited max-wait-ms', async () => {
    const be = new RecordingBackend();
    const b = new DynamicBatcher(be, { ...opts, maxWaitMs: 50 });
    const t0 = performance.now();
    await Promise.all([b.submit(doc(1, 3)), b.submit(doc(2, 4))]);
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(45);
    expect(waited).toBeLessThan(1_000);
    expect(be.batches).toHaveLength(1);
    expect(be.batches[0].rows).toBe(2);
    await b.close();
  });

  it('sorts the waiting window by length while a batch runs, to minimise padding', async () => {
    const be = new RecordingBackend(30);
    // One batch in flight: with a second slot the first full pair would leave on arrival.
    const b = new DynamicBatcher(be, { ...opts, maxBatchSize: 2, maxWaitMs: 5, maxInFlight: 1 });
    const first = b.submit(doc(0, 3)); // runs alone after 5 ms; the rest queue up meanwhile
    await new Promise((r) => setTimeout(r, 10));
    const lens = [20, 4, 21, 5];
    const rest = lens.map((len, i) => b.submit(doc(i + 1, len)));
    const out = await Promise.all([first, ...rest]);
    await b.close();
    // Pairs by length (4+5, 20+21), not by arrival (20+4, 21+5); the oldest document's batch goes first.
    expect(be.batches.slice(1).map((x) => x.lengths)).toEqual([[20, 21], [4, 5]]);
    expect(out.slice(1).map((r) => r.vector[0])).toEqual([1, 2, 3, 4]);
  });

  it('batches only equal lengths for models without an attention mask', async () => {
    const be = new RecordingBackend();
    const b = new DynamicBatcher(be, { ...opts, maxBatchSize: 8, maxWaitMs: 20, equalLengthOnly: true });
    await Promise.all([3, 4, 3, 4, 5].map((len, i) => b.submit(doc(i, len))));
    await b.close();
    for (const batch of be.batches) expect(new Set(batch.lengths).size).toBe(1);
    expect(be.batches.map((x) => x.rows).sort()).toEqual([1, 2, 2]);
  });

  it('refuses documents after close() and finishes the ones already submitted', async () => {
    const be = new RecordingBackend();
    const b = new DynamicBatcher(be, { ...opts, maxWaitMs: 60_000 });
    const p = b.submit(doc(7, 3));
    await b.close();
    await expect(p).resolves.toMatchObject({ batchSize: 1 });
    await expect(b.submit(doc(8, 3))).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
  });
});
