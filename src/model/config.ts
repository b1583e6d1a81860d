/**
 * Shapes of the RoBERTa models this project generates. `base` is roberta-base exactly
 * (huggingface.co/FacebookAI/roberta-base/blob/main/config.json), so a generated base model
 * costs what the real one costs: 124.6M parameters, ~499 MB of float32.
 */

export interface RobertaConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** 514 for roberta-base: 512 usable positions after the padding offset of 2 (padTokenId + 1). */
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  numLabels: number;
}

/** `sequence-classification` outputs logits [batch, numLabels]; `base` outputs hidden states and the pooled `<s>`. */
export type ModelHead = 'sequence-classification' | 'base';

/**
 * `zoo`: one int64 input of token ids and no attention mask (ONNX Model Zoo files);
 * `hf`: `input_ids` + `attention_mask` (Hugging Face Optimum exports).
 */
export type ModelSignature = 'zoo' | 'hf';

export type PresetName = 'tiny' | 'base';

const ROBERTA_DEFAULTS = { typeVocabSize: 1, layerNormEps: 1e-5, padTokenId: 1, numLabels: 2 } as const;

export const PRESETS: Readonly<Record<PresetName, Readonly<RobertaConfig>>> = Object.freeze({
  // The full 50265-token vocabulary so the real roberta-base tokenizer can feed it; 13 MB on disk.
  tiny: Object.freeze({
    vocabSize: 50265, hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 128, maxPositions: 514,
    ...ROBERTA_DEFAULTS,
  }),
  base: Object.freeze({
    vocabSize: 50265, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 514,
    ...ROBERTA_DEFAULTS,
  }),
});

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

/** Throws on a config the graph cannot be built for; returns it otherwise. */
export function validateConfig(c: RobertaConfig): RobertaConfig {
  const problems: string[] = [];
  for (const key of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize', 'numLabels'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) problems.push(`${key} must be a positive integer, got ${c[key]}`);
  }
  if (Number.isInteger(c.hiddenSize) && Number.isInteger(c.numHeads) && c.hiddenSize % c.numHeads !== 0) {
    problems.push(`hiddenSize ${c.hiddenSize} must be divisible by numHeads ${c.numHeads}`);
  }
  if (!Number.isInteger(c.padTokenId) || c.padTokenId < 0 || c.padTokenId >= c.vocabSize) {
    problems.push(`padTokenId must be a token id below vocabSize ${c.vocabSize}, got ${c.padTokenId}`);
  }
  // Positions run from padTokenId + 1 to padTokenId + seqLen, so the table needs room for at least one token.
  if (c.maxPositions < c.padTokenId + 2) problems.push(`maxPositions must be at least padTokenId + 2 = ${c.padTokenId + 2}, got ${c.maxPositions}`);
  if (!(c.layerNormEps > 0)) problems.push(`layerNormEps must be positive, got ${c.layerNormEps}`);
  if (problems.length > 0) throw new Error(`invalid RoBERTa config: ${problems.join('; ')}`);
  return c;
}

/** Longest sequence (in tokens, including <s> and </s>) the position table can embed: 512 for roberta-base. */
export function maxSequenceLength(c: RobertaConfig): number {
  return c.maxPositions - c.padTokenId - 1;
}
