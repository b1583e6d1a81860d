/**
 * The models the benchmark runs, generated once into models/cache/bench/ (git-ignored) and
 * reused: the roberta-base-shaped classifier (hf signature: input_ids + attention_mask, what a
 * Hugging Face export has), its int8 copy, and the base-head model for the embedding check.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PRESETS, type ModelHead, type PresetName } from '../model/config.js';
import { GENERATOR_VERSION, generateModel } from '../model/generate.js';
import { quantizeFile } from '../model/quantize.js';

export type Precision = 'fp32' | 'int8';

const SEED = 1;

export async function benchModel(repoRoot: string, preset: PresetName, head: ModelHead, precision: Precision, log: (line: string) => void): Promise<string> {
  const dir = path.join(repoRoot, 'models/cache/bench');
  const fp32 = path.join(dir, `${preset}-${head}-hf-s${SEED}-g${GENERATOR_VERSION}.onnx`);
  if (!existsSync(fp32)) {
    const t0 = performance.now();
    await generateModel({ preset, head, signature: 'hf', seed: SEED, out: fp32 });
    log(`generated ${path.relative(repoRoot, fp32)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (precision === 'fp32') return fp32;
  // '-w7': 7-bit MatMul weights; a copy cached by the full-range quantizer is not reused.
  const int8 = fp32.replace(/\.onnx$/, '.int8-w7.onnx');
  if (!existsSync(int8)) {
    const t0 = performance.now();
    const q = await quantizeFile(fp32, int8);
    log(`quantized ${path.relative(repoRoot, int8)}: ${(q.bytesIn / 1e6).toFixed(0)} MB -> ${(q.bytesOut / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return int8;
}

/**
 * A near-free model for the pipeline ceiling: the project's RoBERTa graph with one layer of
 * hidden size 8 (2 heads, intermediate 16) and the full 50,265-token vocabulary, so the real
 * roberta-base tokenizer feeds it. 1.6 MB; a batch of 32 reviews runs in well under 1 ms on
 * one core, so what a run measures is the pipeline around the model.
 */
export async function microModel(repoRoot: string, log: (line: string) => void): Promise<string> {
  const out = path.join(repoRoot, `models/cache/bench/micro-h8-l1-sequence-classification-hf-s${SEED}-g${GENERATOR_VERSION}.onnx`);
  if (!existsSync(out)) {
    await generateModel({ config: { ...PRESETS.tiny, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16 }, head: 'sequence-classification', signature: 'hf', seed: SEED, out });
    log(`generated ${path.relative(repoRoot, out)}`);
  }
  return out;
}
