/** `roberta-batch models quantize --int8 IN OUT` through the real CLI, and its refusal without --int8. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { OnnxEngine } from '../../src/worker/engine.js';
import { runCli } from '../helpers/cli.js';
import { testModel } from '../helpers/models.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-quantize-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('writes the int8 file, reports its size and the rewritten nodes; without --int8 it exits non-zero', async () => {
  const m = await testModel('sequence-classification', 'hf');
  const out = path.join(dir, 'model.int8.onnx');
  const r = await runCli(['models', 'quantize', '--int8', m.path, out], {}, 60_000);
  expect(r.code, r.output).toBe(0);
  expect(r.output).toMatch(/14 MatMul -> DynamicQuantizeMatMul \(14 biases folded\), 3 embedding tables int8/);
  expect(statSync(out).size).toBeLessThan(statSync(m.path).size / 3.5);
  const e = await OnnxEngine.open(out, { device: { kind: 'cpu' }, graphOptimization: 'all', intraOpThreads: 1, interOpThreads: 1, skipHash: true });
  try {
    expect(e.info.signature.kind).toBe('hf');
    expect(e.info.signature.numLabels).toBe(2);
  } finally {
    await e.close();
  }

  const missing = await runCli(['models', 'quantize', m.path, path.join(dir, 'x.onnx')], {}, 60_000);
  expect(missing.code).not.toBe(0);
  expect(missing.output).toMatch(/--int8/);
});
