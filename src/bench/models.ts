/**
 * The models the benchmark runs, generated once into models/cache/bench/ (git-ignored) and
 * reused: the roberta-base-shaped classifier (hf signature: input_ids + attention_mask, what a
 * Hugging Face export has), its int8 copy, and the base-head model for the embedding check.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelHead, PresetName } from '../model/config.js';
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
  const int8 = fp32.replace(/\.onnx$/, '.int8.onnx');
  if (!existsSync(int8)) {
    const t0 = performance.now();
    const q = await quantizeFile(fp32, int8);
    log(`quantized ${path.relative(repoRoot, int8)}: ${(q.bytesIn / 1e6).toFixed(0)} MB -> ${(q.bytesOut / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return int8;
}
