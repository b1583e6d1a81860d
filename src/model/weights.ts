/**
 * Deterministic random weights for a RoBERTa graph: same config + head + seed ⇒ the same bytes.
 *
 * Every tensor draws from its own PRNG stream, seeded from (seed, tensor name), so tensors can
 * be produced one at a time in any order (the generator streams a 499 MB base model without
 * holding it) and the reference forward pass can regenerate exactly what the file contains.
 *
 * Scales: Hugging Face initialises with std 0.02, which makes a tiny model's logits differ by
 * ~0.02 between sentences. Here linear layers use std 1/sqrt(fan_in) so every layer keeps unit
 * variance and logits differ by O(1) between inputs; embeddings use std 1 (LayerNorm follows);
 * biases and LayerNorm shifts use std 0.1 and LayerNorm scales 1 ± 0.1, so a graph that mixes up
 * a bias or a LayerNorm parameter gives visibly different numbers. Every LayerNorm and the
 * 1/sqrt(headDim) score scale keep activations O(1) through 12 base layers.
 *
 * Determinism across machines: sfc32 is integer-only, and V8 computes Math.log/cos/sin with its
 * fdlibm port, so results do not depend on the CPU or libm.
 */
import type { ModelHead, RobertaConfig } from './config.js';

export type InitKind = 'embedding' | 'linear' | 'bias' | 'ln-gamma' | 'ln-beta';

export interface WeightSpec {
  name: string;
  dims: number[];
  init: InitKind;
}

export interface LinearNames {
  /** [in, out]: stored transposed, as torch.onnx exports nn.Linear (MatMul(x, W^T) + b). */
  weight: string;
  bias: string;
}

export interface LayerNormNames {
  weight: string;
  bias: string;
}

export interface EncoderLayerNames {
  query: LinearNames;
  key: LinearNames;
  value: LinearNames;
  attentionOutput: LinearNames;
  attentionLayerNorm: LayerNormNames;
  intermediate: LinearNames;
  output: LinearNames;
  outputLayerNorm: LayerNormNames;
}

export interface WeightNames {
  wordEmbeddings: string;
  positionEmbeddings: string;
  tokenTypeEmbeddings: string;
  embeddingsLayerNorm: LayerNormNames;
  layers: EncoderLayerNames[];
  /** sequence-classification: dense hidden→hidden, tanh, out_proj hidden→numLabels. */
  classifierDense?: LinearNames;
  classifierOut?: LinearNames;
  /** base: tanh(dense(h[:, 0])). */
  pooler?: LinearNames;
}

export type Weights = Map<string, Float32Array>;

/** Hugging Face state-dict names: `roberta.` prefix for RobertaForSequenceClassification, none for RobertaModel. */
export function weightNames(config: RobertaConfig, head: ModelHead): WeightNames {
  const p = head === 'sequence-classification' ? 'roberta.' : '';
  const linear = (base: string): LinearNames => ({ weight: `${base}.weight`, bias: `${base}.bias` });
  const layers: EncoderLayerNames[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const l = `${p}encoder.layer.${i}`;
    layers.push({
      query: linear(`${l}.attention.self.query`),
      key: linear(`${l}.attention.self.key`),
      value: linear(`${l}.attention.self.value`),
      attentionOutput: linear(`${l}.attention.output.dense`),
      attentionLayerNorm: linear(`${l}.attention.output.LayerNorm`),
      intermediate: linear(`${l}.intermediate.dense`),
      output: linear(`${l}.output.dense`),
      outputLayerNorm: linear(`${l}.output.LayerNorm`),
    });
  }
  const names: WeightNames = {
    wordEmbeddings: `${p}embeddings.word_embeddings.weight`,
    positionEmbeddings: `${p}embeddings.position_embeddings.weight`,
    tokenTypeEmbeddings: `${p}embeddings.token_type_embeddings.weight`,
    embeddingsLayerNorm: linear(`${p}embeddings.LayerNorm`),
    layers,
  };
  if (head === 'sequence-classification') {
    names.classifierDense = linear('classifier.dense');
    names.classifierOut = linear('classifier.out_proj');
  } else {
    names.pooler = linear('pooler.dense');
  }
  return names;
}

/** Every weight tensor with its shape and initialiser, in the order the generator writes them. */
export function weightSpecs(config: RobertaConfig, head: ModelHead): WeightSpec[] {
  const n = weightNames(config, head);
  const H = config.hiddenSize;
  const specs: WeightSpec[] = [
    { name: n.wordEmbeddings, dims: [config.vocabSize, H], init: 'embedding' },
    { name: n.positionEmbeddings, dims: [config.maxPositions, H], init: 'embedding' },
    { name: n.tokenTypeEmbeddings, dims: [config.typeVocabSize, H], init: 'embedding' },
  ];
  const linear = (names: LinearNames, inDim: number, outDim: number): void => {
    specs.push({ name: names.weight, dims: [inDim, outDim], init: 'linear' });
    specs.push({ name: names.bias, dims: [outDim], init: 'bias' });
  };
  const layerNorm = (names: LayerNormNames): void => {
    specs.push({ name: names.weight, dims: [H], init: 'ln-gamma' });
    specs.push({ name: names.bias, dims: [H], init: 'ln-beta' });
  };
  layerNorm(n.embeddingsLayerNorm);
  for (const l of n.layers) {
    linear(l.query, H, H);
    linear(l.key, H, H);
    linear(l.value, H, H);
    linear(l.attentionOutput, H, H);
    layerNorm(l.attentionLayerNorm);
    linear(l.intermediate, H, config.intermediateSize);
    linear(l.output, config.intermediateSize, H);
    layerNorm(l.outputLayerNorm);
  }
  if (n.classifierDense && n.classifierOut) {
    linear(n.classifierDense, H, H);
    linear(n.classifierOut, H, config.numLabels);
  }
  if (n.pooler) linear(n.pooler, H, H);
  return specs;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** The values of one weight tensor; the same (spec, seed) always gives the same bytes. */
export function generateTensor(spec: WeightSpec, seed: number): Float32Array {
  const out = new Float32Array(elementCount(spec.dims));
  const next = sfc32(streamSeed(seed, spec.name));
  switch (spec.init) {
    case 'embedding': fillNormal(out, next, 0, 1); break;
    case 'linear': fillNormal(out, next, 0, 1 / Math.sqrt(spec.dims[0])); break;
    case 'bias': fillNormal(out, next, 0, 0.1); break;
    case 'ln-gamma': fillNormal(out, next, 1, 0.1); break;
    case 'ln-beta': fillNormal(out, next, 0, 0.1); break;
  }
  return out;
}

/** All weights in memory; meant for the tiny preset and the reference forward pass. */
export function generateWeights(config: RobertaConfig, head: ModelHead, seed: number): Weights {
  const w: Weights = new Map();
  for (const spec of weightSpecs(config, head)) w.set(spec.name, generateTensor(spec, seed));
  return w;
}

function fillNormal(out: Float32Array, next: () => number, mean: number, std: number): void {
  const TWO_PI = 2 * Math.PI;
  for (let i = 0; i < out.length; i += 2) {
    // Box–Muller; u1 in (0, 1] so log(u1) is finite.
    const u1 = (next() + 1) / 4294967296;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    const theta = TWO_PI * u2;
    out[i] = mean + r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(theta);
  }
}

/** FNV-1a over `seed:name`, so every tensor has an independent stream. */
function streamSeed(seed: number, name: string): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const key = `${seed}:${name}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting PRNG), state from splitmix32 of the seed. */
function sfc32(seed: number): () => number {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // The first outputs of a fresh sfc32 are correlated with the seed; 12 rounds decorrelate them.
  for (let i = 0; i < 12; i++) next();
  return next;
}
