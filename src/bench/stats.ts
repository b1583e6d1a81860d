/**
 * Arithmetic of the benchmark report: rates, ratios, percentiles, cosine similarity. Pure
 * functions, unit-tested, so that a figure in docs/BENCHMARKS.md means what its header says.
 */

import type { BenchRatio } from './run.js';

/** One definition for `run` and the benchmark: nearest rank (src/shared/util.ts). */
export { percentile } from '../shared/util.js';

/** a / b, or undefined when either side was not measured or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}

export interface Throughput {
  docs: number;
  /** Document tokens including <s> and </s>, after truncation: what the model had to compute. */
  usefulTokens: number;
  /** rows x longest per batch, summed: what the model did compute. */
  paddedTokens?: number;
  batches?: number;
  seconds: number;
}

export function docsPerSecond(t: Throughput): number {
  return t.seconds > 0 ? t.docs / t.seconds : 0;
}

export function tokensPerSecond(t: Throughput): number {
  return t.seconds > 0 ? t.usefulTokens / t.seconds : 0;
}

/** Share of computed tokens that were padding: 1 - useful / padded. */
export function paddingFraction(t: Throughput): number | undefined {
  return t.paddedTokens ? 1 - t.usefulTokens / t.paddedTokens : undefined;
}

export function meanBatchSize(t: Throughput): number | undefined {
  return t.batches ? t.docs / t.batches : undefined;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine of vectors of ${a.length} and ${b.length} values`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Length-sorted batches of at most `size` indices (stable for equal lengths). */
export function lengthSortedBatches(lengths: readonly number[], size: number): number[][] {
  const order = lengths.map((_, i) => i).sort((x, y) => lengths[x] - lengths[y] || x - y);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += size) out.push(order.slice(i, i + size));
  return out;
}

/** Padded tokens of a batch: rows x its longest row. */
export function paddedTokens(batch: readonly number[], lengths: readonly number[]): number {
  return batch.length * Math.max(0, ...batch.map((i) => lengths[i]));
}

/** 1,234 for large values, fixed digits for small ones, n/a for unmeasured ones. */
export function formatNumber(v: number | undefined, digits = 1): string {
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}

/** The middle value (the mean of the two middle ones for an even count); undefined when empty. */
export function median(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/**
 * A ratio measured once per round, reported as the median with its range: on a shared
 * machine the same code moved by 0.7-1.4x between back-to-back runs (docs/BENCHMARKS.md).
 */
export function roundsRatio(name: string, perRound: (number | undefined)[], load: number, min?: number): BenchRatio {
  const values = perRound.filter((v): v is number => v !== undefined);
  const r: BenchRatio = { name, value: values.length === perRound.length ? median(values) : undefined, load };
  if (min !== undefined) r.min = min;
  if (values.length > 1) r.range = [Math.min(...values), Math.max(...values)];
  return r;
}
