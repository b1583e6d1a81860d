/**
 * Window planning and token-weighted aggregation, checked by hand.
 */
import { describe, expect, it } from 'vitest';
import { planWindows, weightedMean } from '../../src/worker/long-docs.js';

const ids = (n: number) => Int32Array.from({ length: n }, (_, i) => 100 + i);
const opts = { maxLength: 512, overlap: 64, bosId: 0, eosId: 2 };

describe('planWindows', () => {
  it('gives one window to a document of exactly 512 tokens (510 + <s> </s>)', () => {
    const p = planWindows(ids(510), opts);
    expect(p.windows).toHaveLength(1);
    expect(p.windows[0]).toHaveLength(512);
    expect(p.weights).toEqual([510]);
  });

  it('splits 2,000 content tokens into windows of 510 starting every 446 tokens', () => {
    const p = planWindows(ids(2000), opts);
    // starts 0, 446, 892, 1338, 1784: the last one reaches token 1999.
    expect(p.weights).toEqual([510, 510, 510, 510, 216]);
    expect(p.windows.map((w) => w.length)).toEqual([512, 512, 512, 512, 218]);
    expect(p.windows[1][1]).toBe(100 + 446);
    expect(p.windows[4][p.windows[4].length - 2]).toBe(100 + 1999);
    for (const w of p.windows) {
      expect(w[0]).toBe(0);
      expect(w[w.length - 1]).toBe(2);
    }
  });

  it('covers every token with no overlap', () => {
    const p = planWindows(ids(1021), { ...opts, overlap: 0 });
    expect(p.weights).toEqual([510, 510, 1]);
  });

  it('refuses an overlap as large as the window', () => {
    expect(() => planWindows(ids(10), { ...opts, overlap: 510 })).toThrow(RangeError);
  });
});

describe('weightedMean', () => {
  it('weights each window by its content tokens', () => {
    // (510*[1, 2] + 216*[4, -1]) / 726 = [1374/726, 804/726]
    const m = weightedMean([Float32Array.of(1, 2), Float32Array.of(4, -1)], [510, 216]);
    expect(m[0]).toBeCloseTo(1374 / 726, 6);
    expect(m[1]).toBeCloseTo(804 / 726, 6);
  });

  it('returns the vector itself for one window', () => {
    expect(Array.from(weightedMean([Float32Array.of(0.25, -3)], [7]))).toEqual([0.25, -3]);
  });
});
