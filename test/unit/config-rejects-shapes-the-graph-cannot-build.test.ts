import { expect, it } from 'vitest';
import { maxSequenceLength, PRESETS, validateConfig } from '../../src/model/config.js';

it('lists every problem of an invalid config in one error', () => {
  expect(() => validateConfig({ ...PRESETS.tiny, hiddenSize: 66, numLayers: 0, layerNormEps: 0 })).toThrow(
    /numLayers must be a positive integer.*hiddenSize 66 must be divisible by numHeads 4.*layerNormEps must be positive/,
  );
});

it('keeps the presets valid, with base equal to roberta-base and 512 usable positions', () => {
  expect(validateConfig({ ...PRESETS.base })).toEqual({
    vocabSize: 50265, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 514,
    typeVocabSize: 1, layerNormEps: 1e-5, padTokenId: 1, numLabels: 2,
  });
  expect(validateConfig({ ...PRESETS.tiny }).vocabSize).toBe(50265);
  expect(maxSequenceLength(PRESETS.base)).toBe(512);
});
