/**
 * `quantizeFile` on the tiny generated models (both heads, both signatures): onnxruntime loads
 * the int8 file, its outputs stay close to float32, and the file is ~4x smaller.
 *
 * MatMul weights use 7-bit codes: on CPUs without VNNI (this project's CI machine is an AVX2-only
 * AMD EPYC) onnxruntime's u8 x s8 kernel saturates int16 pair sums with full-range weights, and
 * the logits moved by 0.24-0.26 there. The code-range test below holds on every CPU; the logit
 * tolerance catches the saturation only where the CPU has it.
 *
 * Tolerances: int8 activations are quantized with one scale per batch (min/max of the whole
 * input tensor), so int8 results move with the batch's composition by ~1e-2; we therefore
 * compare shapes of outputs, not bits: logits within 0.06 (|logits| ~0.4 on these random
 * models), pooled embeddings at cosine >= 0.99 per row.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, decodeModel } from '../../src/model/onnx-proto.js';
import { int8Codes } from '../../src/model/int8-saturation.js';
import { MATMUL_QMAX, opCounts, quantizeFile, TABLE_QMAX } from '../../src/model/quantize.js';
import { readOnnxSummary } from '../../src/model/summary.js';
import { OnnxEngine, type BatchRequest } from '../../src/worker/engine.js';
import { testModel } from '../helpers/models.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-quantize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = { device: { kind: 'cpu' } as const, graphOptimization: 'all' as const, intraOpThreads: 1, interOpThreads: 1, skipHash: true };

/** 6 rows of different lengths (right-padded with pad id 1), ids spread over the vocabulary. */
function batch(): BatchRequest {
  const lengths = Int32Array.from([5, 9, 14, 20, 27, 33]);
  const seq = 33;
  const ids = new Int32Array(lengths.length * seq).fill(1);
  lengths.forEach((len, r) => {
    for (let p = 0; p < len; p++) ids[r * seq + p] = p === 0 ? 0 : p === len - 1 ? 2 : 4 + ((r * 7919 + p * 104729) % 50000);
  });
  return { rows: lengths.length, seq, ids, lengths };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] ** 2; bb += b[i] ** 2; }
  return ab / Math.sqrt(aa * bb);
}

async function outputs(file: string, pooling?: 'mean' | 'pooler'): Promise<{ data: Float32Array; width: number }> {
  const e = await OnnxEngine.open(file, opts);
  try {
    const out = await e.run({ ...batch(), pooling });
    return { data: out.data, width: out.width };
  } finally {
    await e.close();
  }
}

describe('int8 quantization', () => {
  for (const signature of ['hf', 'zoo'] as const) {
    it(`classification (${signature}): logits within 0.06 of float32, file under 30% of the size`, async () => {
      const m = await testModel('sequence-classification', signature);
      const out = path.join(dir, `cls-${signature}.onnx`);
      const q = await quantizeFile(m.path, out);
      expect(q.matmuls).toBe(14); // 2 layers x 6 + classifier dense + out_proj
      expect(q.gathers).toBe(3);
      expect(q.bytesOut / q.bytesIn).toBeLessThan(0.3);
      const ops = opCounts(decodeModel(readFileSync(out)).graph!);
      expect(ops.MatMul ?? 0).toBe(4); // Q·Kᵀ and scores·V per layer: activations x activations stay float
      expect(ops.DynamicQuantizeMatMul).toBe(14);
      // The vocabulary and position tables are still found (the worker checks its tokenizer against them).
      expect((await readOnnxSummary(out)).wordEmbeddingRows).toBe(50265);

      const fp = await outputs(m.path);
      const i8 = await outputs(out);
      let maxDiff = 0;
      for (let i = 0; i < fp.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fp.data[i] - i8.data[i]));
      expect(maxDiff).toBeLessThan(0.06);
      expect(maxDiff).toBeGreaterThan(0); // it did change the arithmetic
    });
  }

  it('base head: mean-pooled and pooler embeddings at cosine >= 0.99 per row', async () => {
    const m = await testModel('base', 'hf');
    const out = path.join(dir, 'base-hf.onnx');
    await quantizeFile(m.path, out);
    for (const pooling of ['mean', 'pooler'] as const) {
      const fp = await outputs(m.path, pooling);
      const i8 = await outputs(out, pooling);
      for (let r = 0; r < 6; r++) {
        const c = cosine(fp.data.subarray(r * fp.width, (r + 1) * fp.width), i8.data.subarray(r * i8.width, (r + 1) * i8.width));
        expect(c, `${pooling} row ${r}`).toBeGreaterThanOrEqual(0.99);
      }
    }
  });

  it('MatMul weights stay within ±63 (no int16 saturation without VNNI), embedding tables use ±127', async () => {
    expect(MATMUL_QMAX).toBe(63);
    expect(TABLE_QMAX).toBe(127);
    const m = await testModel('sequence-classification', 'hf');
    const out = path.join(dir, 'ranges.onnx');
    await quantizeFile(m.path, out);
    const graph = decodeModel(readFileSync(out)).graph!;
    const inits = new Map(graph.initializer.map((t) => [t.name, t]));
    const maxCode = (name: string): number => {
      const t = inits.get(name)!;
      expect(t.dataType).toBe(DataType.INT8);
      return int8Codes(t).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    };
    const weights = graph.node.filter((n) => n.opType === 'DynamicQuantizeMatMul').map((n) => n.input[1]);
    expect(weights).toHaveLength(14);
    // Every column reaches its largest code, so the maximum is exactly the range.
    for (const w of weights) expect(maxCode(w), w).toBe(MATMUL_QMAX);
    const tables = graph.node.filter((n) => n.opType === 'Gather').map((n) => n.input[0]).filter((n) => inits.get(n)?.dataType === DataType.INT8);
    expect(tables).toHaveLength(3);
    for (const t of tables) expect(maxCode(t), t).toBe(TABLE_QMAX);
  });

  it('refuses a model it already quantized', async () => {
    const m = await testModel('sequence-classification', 'hf');
    const once = path.join(dir, 'once.onnx');
    await quantizeFile(m.path, once);
    await expect(quantizeFile(once, path.join(dir, 'twice.onnx'))).rejects.toThrow(/already quantized/);
  });
});
