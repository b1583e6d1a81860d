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
export function planWindows(content: Int32Array, opts: WindowOptions): WindowPlan {
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

export interface WindowOptions {
  maxLength: number;
  overlap: number;
  bosId: number;
  eosId: number;
}

/**
 * planWindows over content ids that arrive in pieces (RobertaTokenizer.encodeSegments): each
 * window is handed out as soon as its last token is known, and only the ids from the next
 * window's start on are kept. Gives the windows and weights of planWindows(all ids).
 */
export class WindowStream {
  readonly #o: WindowOptions;
  readonly #size: number;
  readonly #step: number;
  #buf = new Int32Array(0);
  /** Content position of #buf[0]. */
  #bufStart = 0;
  /** Start of the next window. */
  #next = 0;
  #total = 0;
  /** End of the last window handed out (-1: none yet). */
  #lastEnd = -1;

  constructor(opts: WindowOptions) {
    this.#o = opts;
    this.#size = opts.maxLength - 2;
    if (this.#size < 1) throw new RangeError(`maxLength ${opts.maxLength} leaves no room for content`);
    if (opts.overlap < 0 || opts.overlap >= this.#size) throw new RangeError(`overlap ${opts.overlap} must be in [0, ${this.#size - 1}]`);
    this.#step = this.#size - opts.overlap;
  }

  #window(start: number, end: number): { ids: Int32Array; weight: number } {
    const body = this.#buf.subarray(start - this.#bufStart, end - this.#bufStart);
    const ids = new Int32Array(body.length + 2);
    ids[0] = this.#o.bosId;
    ids.set(body, 1);
    ids[ids.length - 1] = this.#o.eosId;
    return { ids, weight: body.length };
  }

  /** Windows complete once `ids` follow the ids pushed before. */
  push(ids: Int32Array): Array<{ ids: Int32Array; weight: number }> {
    const keep = this.#buf;
    this.#buf = new Int32Array(keep.length + ids.length);
    this.#buf.set(keep);
    this.#buf.set(ids, keep.length);
    this.#total += ids.length;
    const out: Array<{ ids: Int32Array; weight: number }> = [];
    // A full window ending exactly at the ids known so far is the same window whether or not more follow.
    while (this.#next + this.#size <= this.#total) {
      out.push(this.#window(this.#next, this.#next + this.#size));
      this.#lastEnd = this.#next + this.#size;
      this.#next += this.#step;
    }
    const from = Math.min(this.#next, this.#total) - this.#bufStart;
    this.#buf = this.#buf.slice(from);
    this.#bufStart += from;
    return out;
  }

  /** The last, shorter window (none if the last full one ended at the last token). */
  finish(): Array<{ ids: Int32Array; weight: number }> {
    if (this.#lastEnd >= this.#total) return [];
    return [this.#window(this.#next, this.#total)];
  }
}

/**
 * Scores a long document window by window as its ids are tokenized, segment by segment: the
 * first windows are in batches while the rest of the text is still being tokenized, and the
 * whole text's ids are never held at once. Resolves with the outputs and their weights.
 */
export async function scoreWindows<T>(segments: AsyncIterable<Int32Array>, opts: WindowOptions, submit: (ids: Int32Array) => Promise<T>): Promise<{ outs: T[]; weights: number[]; contentTokens: number }> {
  const stream = new WindowStream(opts);
  const pending: Promise<T>[] = [];
  const weights: number[] = [];
  const take = (ws: Array<{ ids: Int32Array; weight: number }>) => {
    for (const w of ws) {
      const p = submit(w.ids);
      // Awaited below with the others; until then a failure must not count as unhandled.
      p.catch(() => {});
      pending.push(p);
      weights.push(w.weight);
    }
  };
  let contentTokens = 0;
  for await (const seg of segments) {
    contentTokens += seg.length;
    take(stream.push(seg));
  }
  take(stream.finish());
  return { outs: await Promise.all(pending), weights, contentTokens };
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
