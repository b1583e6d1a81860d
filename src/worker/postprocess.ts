/**
 * Turns one row of model output into the result users read: softmax label/score for
 * sentiment, a plain number array for embeddings (already pooled/normalised in the engine).
 */
import type { EmbeddingOutput, Pooling, SentimentOutput } from '../shared/types.js';

/** The zoo's roberta-sequence-classification-9 (SST-2): 0 = negative, 1 = positive. */
export const DEFAULT_SENTIMENT_LABELS = ['negative', 'positive'];

export function labelsFor(numLabels: number, configured?: string[]): string[] {
  if (configured?.length) return configured;
  if (numLabels === 2) return DEFAULT_SENTIMENT_LABELS;
  return Array.from({ length: numLabels }, (_, i) => `label_${i}`);
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function sentimentFromLogits(logits: Float32Array, labels: string[]): SentimentOutput {
  // One pass for the maximum, one for the sum: the argmax of the logits is the argmax of their
  // softmax, so only the winner's probability is divided out (no arrays per document).
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  const max = logits[best];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return { label: labels[best] ?? `label_${best}`, score: 1 / sum, logits: Array.from(logits) };
}

export function embeddingFromVector(vector: Float32Array, pooling: Pooling, normalized: boolean): EmbeddingOutput {
  return { embedding: Array.from(vector), pooling, normalized };
}
