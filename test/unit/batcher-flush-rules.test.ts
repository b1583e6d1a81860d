/**
 * When a batch leaves: full by size, full by padded-token budget, or its oldest document
 * waited max-wait-ms; inside the window documents are sorted by length. A deterministic
 * backend records the batches (the batcher only sees the InferenceBackend seam) and a manual
 * clock stands in for time, so "at once" means before the clock moved at all and "after
 * max-wait-ms" is checked at the exact millisecond, with no wall-clock wait.
 */
import { describe, expect, it } from 'vitest';
import { DynamicBatcher } from '../../src/worker/batcher.js';
import { doc, GatedBackend, ManualClock, settle } from '../helpers/batcher-fakes.js';

const opts = { maxBatchSize: 4, maxBatchTokens: 1_000, maxWaitMs: 10_000, padId: 1, equalLengthOnly: false };

function setup(o: Partial<typeof opts> & { maxInFlight?: number; minWindowForFull?: number } = {}) {
  const clock = new ManualClock();
  const be = new GatedBackend();
  return { clock, be, b: new DynamicBatcher(be, { ...opts, ...o }, {}, clock) };
}

describe('DynamicBatcher', () => {
  it('sends a batch as soon as it holds max-batch-size documents', async () => {
    const { be, b } = setup();
    const p = Promise.all([1, 2, 3, 4].map((t) => b.submit(doc(t, 5))));
    // Sent before the clock moved: the 10 s max-wait played no part.
    expect(be.shapes).toEqual([{ rows: 4, seq: 5 }]);
    expect(be.batches).toEqual([{ tags: [1, 2, 3, 4], lengths: [5, 5, 5, 5] }]);
    be.release();
    const res = await p;
    expect(res.map((r) => r.vector[0])).toEqual([1, 2, 3, 4]);
    expect(res.map((r) => r.waitMs)).toEqual([0, 0, 0, 0]);
    await b.close();
  });

  it('sends a batch when the next document would exceed the padded-token budget', async () => {
    const { be, b } = setup({ maxBatchSize: 100, maxBatchTokens: 30 });
    const p = [1, 2, 3].map((t) => b.submit(doc(t, 10)));
    // 3 x 10 = 30 fills the budget exactly, before any time passed.
    expect(be.shapes[0]).toEqual({ rows: 3, seq: 10 });
    be.release();
    await Promise.all(p);
    await b.close();
  });

  it('sends a partial batch once its oldest document waited max-wait-ms', async () => {
    const { clock, be, b } = setup({ maxWaitMs: 50 });
    const p = Promise.all([b.submit(doc(1, 3)), b.submit(doc(2, 4))]);
    clock.advance(49);
    expect(be.batches).toHaveLength(0);
    clock.advance(1);
    expect(be.batches).toHaveLength(1);
    expect(be.shapes[0].rows).toBe(2);
    be.release();
    expect((await p).map((r) => r.waitMs)).toEqual([50, 50]);
    await b.close();
  });

  it('sorts the waiting window by length while a batch runs, to minimise padding', async () => {
    // One batch in flight: with a second slot the first full pair would leave on arrival.
    const { clock, be, b } = setup({ maxBatchSize: 2, maxWaitMs: 5, maxInFlight: 1 });
    const first = b.submit(doc(0, 3));
    clock.advance(5); // runs alone; the rest queue up behind it
    expect(be.batches).toHaveLength(1);
    const lens = [20, 4, 21, 5];
    const rest = lens.map((len, i) => b.submit(doc(i + 1, len)));
    await settle();
    expect(be.batches).toHaveLength(1);
    await be.releaseAll();
    const out = await Promise.all([first, ...rest]);
    await b.close();
    // Pairs by length (4+5, 20+21), not by arrival (20+4, 21+5); the oldest document's batch goes first.
    expect(be.batches.slice(1).map((x) => x.lengths)).toEqual([[20, 21], [4, 5]]);
    expect(out.slice(1).map((r) => r.vector[0])).toEqual([1, 2, 3, 4]);
  });

  it('batches only equal lengths for models without an attention mask', async () => {
    const { clock, be, b } = setup({ maxBatchSize: 8, maxWaitMs: 20, equalLengthOnly: true });
    const p = Promise.all([3, 4, 3, 4, 5].map((len, i) => b.submit(doc(i, len))));
    clock.advance(20);
    await be.releaseAll();
    await p;
    await b.close();
    for (const batch of be.batches) expect(new Set(batch.lengths).size).toBe(1);
    expect(be.shapes.map((x) => x.rows).sort()).toEqual([1, 2, 2]);
  });

  it('with minWindowForFull, a full batch leaves early only from a window that deep, else at max-wait-ms', async () => {
    const { clock, be, b } = setup({ maxBatchSize: 2, maxWaitMs: 20, minWindowForFull: 6, maxInFlight: 1 });
    // Lengths in arrival order: the first two to arrive are 9 and 3, a bad pair.
    const lengths = [9, 3, 8, 4, 9, 3];
    const p = lengths.slice(0, 5).map((len, i) => b.submit(doc(i, len)));
    // Full pairs exist from the second document on, but the window holds 5 of the 6 needed.
    expect(be.batches).toHaveLength(0);
    p.push(b.submit(doc(5, lengths[5])));
    // Six in: a pair leaves at once, cut from the window sorted by length (the oldest
    // document's pair, 9 + 9), not the first two to arrive (9 + 3).
    expect(be.batches.map((x) => x.lengths)).toEqual([[9, 9]]);
    be.release();
    await settle();
    // Four left (3, 3, 4, 8): full pairs, but a shallow window waits until max-wait-ms.
    clock.advance(19);
    expect(be.batches).toHaveLength(1);
    clock.advance(1);
    await be.releaseAll();
    await Promise.all(p);
    await b.close();
    expect(be.batches.map((x) => x.lengths)).toEqual([[9, 9], [3, 3], [4, 8]]);
  });

  it('refuses documents after close() and finishes the ones already submitted', async () => {
    const { be, b } = setup({ maxWaitMs: 60_000 });
    const p = b.submit(doc(7, 3));
    const closed = b.close();
    await be.releaseAll();
    await closed;
    await expect(p).resolves.toMatchObject({ batchSize: 1 });
    await expect(b.submit(doc(8, 3))).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
  });
});
