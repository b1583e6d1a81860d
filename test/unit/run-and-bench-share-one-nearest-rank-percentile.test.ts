/**
 * `run`'s latency p50/p95 and the benchmark report use one percentile: nearest rank, the
 * smallest sample that at least p % of the samples do not exceed. Rounding the rank down
 * (what `run` did before) gives the next sample up: 20 of 1..20 for p95 instead of 19.
 */
import { describe, expect, it } from 'vitest';
import { percentile as benchPercentile } from '../../src/bench/stats.js';
import { percentile } from '../../src/shared/util.js';

describe('percentile', () => {
  it('is one definition for run and bench', () => {
    expect(benchPercentile).toBe(percentile);
  });

  it('takes the nearest rank, not the rank rounded down', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(xs, 95)).toBe(19);
    expect(percentile(xs, 50)).toBe(10);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile(xs, 100)).toBe(20);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([], 95)).toBe(0);
  });
});
