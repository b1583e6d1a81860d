/**
 * Long documents (`--long-docs chunk`): a text longer than the model's window is split into
 * overlapping windows of at most `maxLength` tokens (each wrapped in <s> … </s>), every window
 * runs through the same dynamic batches as other documents, and the window outputs are
 * combined by a token-weighted mean: a window of 510 content tokens counts 510 times as much as
 * a trailing window of 1 token. Sentiment label and score come from the averaged logits;
 * embeddings are averaged before any L2 normalisation.
 */

export interface WindowPlan {
  /** Token ids per window, specials included. */
  windows: Int32Array[];
  /** Content tokens (specials excluded) per window: the aggregation weights. */
  weights: number[];
}

/**
 * Splits content ids (no specials) into windows of `maxLength - 2` content tokens that start
 * every `maxLength - 2 - overlap` tokens; the last window ends at the last token.
 * A document that fits (content <= maxLength - 2) gives exactly one window.
 */
export function planWindows(content: Int32Array, opts: { maxLength: number; overlap: number; bosId: number; eosId: number }): WindowPlan {
  const size = opts.maxLength - 2;
  if (size < 1) throw new RangeError(`maxLength ${opts.maxLength} leaves no room for content`);
  if (opts.overlap < 0 || opts.overlap >= size) throw new RangeError(`overlap ${opts.overlap} must be in [0, ${size - 1}]`);
  const step = size - opts.overlap;
  const starts: number[] = [];
  for (let s = 0; ; s += step) {
    starts.push(s);
    if (s + size >= content.length) break;
  }
  const windows: Int32Array[] = [];
  const weights: number[] = [];
  for (const s of starts) {
    const body = content.subarray(s, Math.min(s + size, content.length));
    const w = new Int32Array(body.length + 2);
    w[0] = opts.bosId;
    w.set(body, 1);
    w[w.length - 1] = opts.eosId;
    windows.push(w);
    weights.push(body.length);
  }
  return { windows, weights };
}

/** Σ w_i v_i / Σ w_i, in float64, returned as float32. */
export function weightedMean(vectors: Float32Array[], weights: number[]): Float32Array {
  if (vectors.length !== weights.length || vectors.length === 0) throw new RangeError('one weight per vector, at least one vector');
  const width = vectors[0].length;
  const acc = new Float64Array(width);
  let total = 0;
  vectors.forEach((v, i) => {
    const w = weights[i];
    total += w;
    for (let k = 0; k < width; k++) acc[k] += w * v[k];
  });
  const out = new Float32Array(width);
  for (let k = 0; k < width; k++) out[k] = acc[k] / total;
  return out;
}
