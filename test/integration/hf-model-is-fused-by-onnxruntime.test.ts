/**
 * The graph is laid out like a torch.onnx opset-11 export so onnxruntime's session-time fusions
 * apply; if a layout change breaks them, inference silently gets slower. This pins them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect, it, onTestFinished } from 'vitest';
import { decodeModel } from '../../src/model/onnx-proto.js';
import { testModel } from '../helpers/models.js';

async function fusedOpCounts(modelPath: string): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rb-opt-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const optimized = path.join(dir, 'optimized.onnx');
  const session = await ort.InferenceSession.create(modelPath, { optimizedModelFilePath: optimized, logSeverityLevel: 3 });
  await session.release();
  const counts: Record<string, number> = {};
  for (const n of decodeModel(await readFile(optimized)).graph!.node) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  return counts;
}

it('fuses every hf encoder layer into one Attention node, and LayerNorm and Gelu everywhere', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const ops = await fusedOpCounts(model.path);
  expect(ops.Attention).toBe(model.config.numLayers);
  expect(ops.LayerNormalization).toBe(2 * model.config.numLayers + 1);
  expect(ops.BiasGelu).toBe(model.config.numLayers);
  expect(ops.Softmax).toBeUndefined();
});

it('fuses LayerNorm and Gelu in zoo models, which have no mask for Attention to fuse', async () => {
  const model = await testModel('base', 'zoo');
  const ops = await fusedOpCounts(model.path);
  expect(ops.LayerNormalization).toBe(2 * model.config.numLayers + 1);
  expect(ops.BiasGelu).toBe(model.config.numLayers);
  expect(ops.Erf).toBeUndefined();
});
