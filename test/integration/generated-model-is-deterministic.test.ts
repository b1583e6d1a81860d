import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { generateModel } from '../../src/model/generate.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'rb-gen-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

it('writes byte-identical files for the same seed and reports their real size and sha256', async () => {
  const a = await generateModel({ preset: 'tiny', head: 'sequence-classification', signature: 'zoo', seed: 5, out: path.join(dir, 'a.onnx') });
  const b = await generateModel({ preset: 'tiny', head: 'sequence-classification', signature: 'zoo', seed: 5, out: path.join(dir, 'b.onnx') });
  expect(b.sha256).toBe(a.sha256);
  const bytes = await readFile(a.path);
  expect(bytes.length).toBe(a.bytes);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(a.sha256);
  expect((await readdir(dir)).sort()).toEqual(['a.onnx', 'b.onnx']);
});

it('writes different weights for a different seed', async () => {
  const a = await generateModel({ preset: 'tiny', head: 'base', signature: 'hf', seed: 5, out: path.join(dir, 'a.onnx') });
  const b = await generateModel({ preset: 'tiny', head: 'base', signature: 'hf', seed: 6, out: path.join(dir, 'b.onnx') });
  expect(b.bytes).toBe(a.bytes);
  expect(b.sha256).not.toBe(a.sha256);
});

it('leaves no partial file behind when generation fails', async () => {
  await expect(generateModel({
    config: { vocabSize: 10, hiddenSize: 6, numLayers: 1, numHeads: 4, intermediateSize: 8, maxPositions: 8, typeVocabSize: 1, layerNormEps: 1e-5, padTokenId: 1, numLabels: 2 },
    head: 'base', signature: 'hf', seed: 1, out: path.join(dir, 'bad.onnx'),
  })).rejects.toThrow(/hiddenSize 6 must be divisible by numHeads 4/);
  expect(await readdir(dir)).toEqual([]);
});
