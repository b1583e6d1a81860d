/**
 * --long-docs chunk scores windows as the text is tokenized segment by segment (WindowStream):
 * for any split of the ids into pieces, the windows and weights are those planWindows gives
 * for all ids at once.
 */
import { expect, it } from 'vitest';
import { planWindows, scoreWindows, WindowStream } from '../../src/worker/long-docs.js';

function rng(seed: number) {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

it('streams the same windows as planWindows for every split of the ids', () => {
  const rand = rng(7);
  for (let trial = 0; trial < 400; trial++) {
    const maxLength = 3 + Math.floor(rand() * 20);
    const overlap = Math.floor(rand() * (maxLength - 2));
    const n = Math.floor(rand() * 120);
    const ids = Int32Array.from({ length: n }, (_, i) => 10 + i);
    const opts = { maxLength, overlap, bosId: 0, eosId: 2 };
    const plan = planWindows(ids, opts);
    const stream = new WindowStream(opts);
    const got: Array<{ ids: Int32Array; weight: number }> = [];
    for (let at = 0; at < n;) {
      const len = Math.min(n - at, Math.floor(rand() * (maxLength * 2)));
      got.push(...stream.push(ids.subarray(at, at + len)));
      at += len;
    }
    got.push(...stream.finish());
    expect(got.map((w) => Array.from(w.ids)), `trial ${trial} n=${n} maxLength=${maxLength} overlap=${overlap}`).toEqual(plan.windows.map((w) => Array.from(w)));
    expect(got.map((w) => w.weight)).toEqual(plan.weights);
  }
});

it('submits the first windows before the last segment is tokenized', async () => {
  const submitted: number[] = [];
  let segmentsGiven = 0;
  async function* segments() {
    for (let k = 0; k < 4; k++) {
      segmentsGiven++;
      yield Int32Array.from({ length: 100 }, (_, i) => k * 100 + i);
    }
  }
  const { outs, weights, contentTokens } = await scoreWindows(segments(), { maxLength: 34, overlap: 8, bosId: 0, eosId: 2 }, async (w) => {
    submitted.push(segmentsGiven);
    return w.length;
  });
  expect(contentTokens).toBe(400);
  expect(weights.reduce((a, b) => a + b, 0)).toBeGreaterThan(400);
  expect(outs.length).toBe(planWindows(Int32Array.from({ length: 400 }), { maxLength: 34, overlap: 8, bosId: 0, eosId: 2 }).windows.length);
  // Windows went to the batcher while segments were still coming.
  expect(submitted[0]).toBe(1);
});
