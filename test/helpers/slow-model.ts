/**
 * A RoBERTa-shaped model slow enough (hidden 256, 6 layers: ~9 MFLOP per token) that one batch
 * of 32 x 512 tokens takes seconds on one CPU thread: for shutdown, stall and crash tests.
 */
import path from 'node:path';
import { PRESETS } from '../../src/model/config.js';
import { GENERATOR_VERSION } from '../../src/model/generate.js';
import { sampleSentences } from './corpus.js';
import { cachedModel, TEST_MODEL_DIR } from './models.js';

/** Generated once per machine (cached like the tiny models), not once per test file. */
export function slowModel(): Promise<string> {
  return cachedModel({
    config: { ...PRESETS.tiny, hiddenSize: 256, numLayers: 6, numHeads: 4, intermediateSize: 1024 },
    head: 'sequence-classification', signature: 'hf', seed: 5,
    out: path.join(TEST_MODEL_DIR, `slow-h256-l6-classification-hf-g${GENERATOR_VERSION}.onnx`),
  });
}

/** Documents that tokenize to more than 512 tokens (truncated to 512). */
export function longDocs(n: number, prefix = 'long'): { id: string; text: string }[] {
  const long = sampleSentences().join(' ').repeat(3);
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, text: `${i} ${long}` }));
}
