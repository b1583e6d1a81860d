/**
 * RoBERTa's forward pass in plain TypeScript (float64 accumulation), written from the Hugging
 * Face modeling code rather than from graph.ts, so tests can check that the generated ONNX graph
 * (after onnxruntime's fusions) computes what RoBERTa computes.
 *
 * Rows are independent: each row is computed at its own length, masked keys are left out of
 * the softmax (the graph adds -10000 instead, which gives the same probabilities to float32
 * precision), and without a mask every token, padding included, is attended — what a model
 * without an attention_mask input does.
 */
import type { ModelHead, RobertaConfig } from '../../src/model/config.js';
import { weightNames, type LayerNormNames, type LinearNames, type Weights } from '../../src/model/weights.js';

export interface ReferenceInput {
  config: RobertaConfig;
  head: ModelHead;
  weights: Weights;
  inputIds: number[][];
  /** 1 = token, 0 = padding; omitted for the zoo signature (no mask). */
  attentionMask?: number[][];
}

export interface ReferenceOutput {
  /** sequence-classification: [numLabels] per row. */
  logits?: Float32Array[];
  /** base: [seq][hidden] per row. */
  lastHidden?: Float32Array[][];
  /** base: [hidden] per row. */
  pooled?: Float32Array[];
}

type Vec = Float64Array;

export function referenceForward(input: ReferenceInput): ReferenceOutput {
  const { config, head, weights } = input;
  const names = weightNames(config, head);
  const get = (name: string): Float32Array => {
    const w = weights.get(name);
    if (!w) throw new Error(`reference: weight ${name} is missing`);
    return w;
  };
  const out: ReferenceOutput = {};
  if (head === 'sequence-classification') out.logits = [];
  else {
    out.lastHidden = [];
    out.pooled = [];
  }

  input.inputIds.forEach((ids, row) => {
    const mask = input.attentionMask?.[row];
    if (mask && mask.length !== ids.length) throw new Error(`reference: row ${row} has ${ids.length} ids but ${mask.length} mask values`);
    let hidden = embed(ids, config, names, get);
    for (const l of names.layers) hidden = encoderLayer(hidden, mask, config, l, get);
    const first = hidden[0];
    if (head === 'sequence-classification') {
      const dense = dense_(first, names.classifierDense!, get).map(Math.tanh);
      out.logits!.push(Float32Array.from(dense_(dense, names.classifierOut!, get)));
    } else {
      out.lastHidden!.push(hidden.map((h) => Float32Array.from(h)));
      out.pooled!.push(Float32Array.from(dense_(first, names.pooler!, get).map(Math.tanh)));
    }
  });
  return out;
}

/** RoBERTa position ids: padding keeps padTokenId, the n-th real token gets padTokenId + n. */
export function robertaPositionIds(ids: readonly number[], padTokenId: number): number[] {
  let seen = 0;
  return ids.map((id) => (id === padTokenId ? padTokenId : padTokenId + ++seen));
}

function embed(ids: number[], c: RobertaConfig, n: ReturnType<typeof weightNames>, get: (name: string) => Float32Array): Vec[] {
  const H = c.hiddenSize;
  const word = get(n.wordEmbeddings);
  const pos = get(n.positionEmbeddings);
  const type = get(n.tokenTypeEmbeddings);
  const positions = robertaPositionIds(ids, c.padTokenId);
  return ids.map((id, s) => {
    if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new Error(`reference: token id ${id} is outside the vocabulary (0..${c.vocabSize - 1})`);
    if (positions[s] >= c.maxPositions) throw new Error(`reference: position ${positions[s]} is outside the position table (${c.maxPositions} rows)`);
    const v = new Float64Array(H);
    for (let i = 0; i < H; i++) v[i] = word[id * H + i] + type[i] + pos[positions[s] * H + i];
    return layerNorm(v, n.embeddingsLayerNorm, c.layerNormEps, get);
  });
}

function encoderLayer(x: Vec[], mask: number[] | undefined, c: RobertaConfig, l: ReturnType<typeof weightNames>['layers'][number], get: (name: string) => Float32Array): Vec[] {
  const S = x.length;
  const H = c.hiddenSize;
  const D = H / c.numHeads;
  const q = x.map((v) => dense_(v, l.query, get));
  const k = x.map((v) => dense_(v, l.key, get));
  const val = x.map((v) => dense_(v, l.value, get));
  const scale = 1 / Math.sqrt(D);
  const context = x.map(() => new Float64Array(H));
  const scores = new Float64Array(S);
  for (let h = 0; h < c.numHeads; h++) {
    const off = h * D;
    for (let s = 0; s < S; s++) {
      let max = -Infinity;
      for (let t = 0; t < S; t++) {
        if (mask && mask[t] === 0) {
          scores[t] = -Infinity;
          continue;
        }
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[s][off + d] * k[t][off + d];
        scores[t] = dot * scale;
        if (scores[t] > max) max = scores[t];
      }
      let sum = 0;
      for (let t = 0; t < S; t++) {
        scores[t] = scores[t] === -Infinity ? 0 : Math.exp(scores[t] - max);
        sum += scores[t];
      }
      for (let t = 0; t < S; t++) {
        const p = scores[t] / sum;
        if (p === 0) continue;
        for (let d = 0; d < D; d++) context[s][off + d] += p * val[t][off + d];
      }
    }
  }
  const attended = context.map((ctx, s) => layerNorm(add(dense_(ctx, l.attentionOutput, get), x[s]), l.attentionLayerNorm, c.layerNormEps, get));
  return attended.map((a) => {
    const inter = dense_(a, l.intermediate, get).map(gelu);
    return layerNorm(add(dense_(inter, l.output, get), a), l.outputLayerNorm, c.layerNormEps, get);
  });
}

/** y = x W + b with W stored [in, out]. */
function dense_(x: Vec, w: LinearNames, get: (name: string) => Float32Array): Vec {
  const W = get(w.weight);
  const b = get(w.bias);
  const outDim = b.length;
  const y = Float64Array.from(b);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const row = i * outDim;
    for (let o = 0; o < outDim; o++) y[o] += xi * W[row + o];
  }
  return y;
}

function layerNorm(x: Vec, w: LayerNormNames, eps: number, get: (name: string) => Float32Array): Vec {
  const gamma = get(w.weight);
  const beta = get(w.bias);
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= x.length;
  const inv = 1 / Math.sqrt(variance + eps);
  return x.map((v, i) => (v - mean) * inv * gamma[i] + beta[i]);
}

function add(a: Vec, b: Vec): Vec {
  return a.map((v, i) => v + b[i]);
}

/** Exact GELU, x·Φ(x) = x/2 · (1 + erf(x/√2)), as RoBERTa's "gelu" activation. */
function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/**
 * erf to ~1e-14: Maclaurin series below |x| = 2.5 (terms peak near e^(x²) ≈ 500, costing under
 * 3 of float64's 16 digits), the Laplace continued fraction of erfc above, 1 beyond 6
 * (erfc(6) ≈ 2e-17).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax < 2.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const contribution = term / (2 * n + 1);
      sum += contribution;
      if (Math.abs(contribution) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated from the tail.
  let frac = 0;
  for (let n = 60; n >= 1; n--) frac = (n / 2) / (ax + frac);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + frac);
  return Math.sign(x) * (1 - erfc);
}
