/**
 * A RoBERTa-shaped model slow enough (hidden 256, 6 layers: ~9 MFLOP per token) that one batch
 * of 32 x 512 tokens takes seconds on one CPU thread: for shutdown, stall and crash tests.
 */
import path from 'node:path';
import { PRESETS } from '../../src/model/config.js';
import { generateModel } from '../../src/model/generate.js';
import { sampleSentences } from './corpus.js';
import { TEST_MODEL_DIR } from './models.js';

let pending: Promise<string> | undefined;

export function slowModel(): Promise<string> {
  pending ??= generateModel({
    config: { ...PRESETS.tiny, hiddenSize: 256, numLayers: 6, numHeads: 4, intermediateSize: 1024 },
    head: 'sequence-classification', signature: 'hf', seed: 5,
    out: path.join(TEST_MODEL_DIR, 'slow-h256-l6-classification-hf.onnx'),
  }).then((g) => g.path);
  return pending;
}

/** Documents that tokenize to more than 512 tokens (truncated to 512). */
export function longDocs(n: number, prefix = 'long'): { id: string; text: string }[] {
  const long = sampleSentences().join(' ').repeat(3);
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, text: `${i} ${long}` }));
}
