/**
 * Every wrong model a user can point at gives a typed
 * error with a stable code that names the file and the fix.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RobertaBatchError } from '../../src/shared/errors.js';
import { OnnxEngine, type EngineOptions } from '../../src/worker/engine.js';
import { testModel } from '../helpers/models.js';
import { writeFloatInputModel, writeIntOutputModel, writeUnknownOperatorModel } from '../helpers/odd-models.js';

const cpu: EngineOptions = { device: { kind: 'cpu' }, graphOptimization: 'basic', intraOpThreads: 1, interOpThreads: 1, skipHash: true };
let dir: string;
beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bad-models-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openError(file: string, opts: EngineOptions = cpu): Promise<RobertaBatchError> {
  const err = await OnnxEngine.open(file, opts).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RobertaBatchError);
  return err as RobertaBatchError;
}

describe('OnnxEngine.open', () => {
  it('E_MODEL_NOT_FOUND for a missing file, with how to get one', async () => {
    const e = await openError(path.join(dir, 'nope.onnx'));
    expect(e.code).toBe('E_MODEL_NOT_FOUND');
    expect(e.message).toContain('nope.onnx');
    expect(e.hint).toMatch(/models fetch/);
  });

  it('E_MODEL_NOT_FOUND for a folder without model.onnx', async () => {
    const e = await openError(dir);
    expect(e.code).toBe('E_MODEL_NOT_FOUND');
  });

  it('E_MODEL_EMPTY for a 0-byte file', async () => {
    const f = path.join(dir, 'empty.onnx');
    writeFileSync(f, '');
    expect((await openError(f)).code).toBe('E_MODEL_EMPTY');
  });

  it('E_MODEL_LFS_POINTER for a Git LFS pointer, saying how to fetch the real file', async () => {
    const f = path.join(dir, 'roberta-sequence-classification-9.onnx');
    writeFileSync(f, 'version https://git-lfs.github.com/spec/v1\noid sha256:8b28f588889de84ef45918765b25bd0e74179b9be5d9320dafdddcb2553784cc\nsize 498658080\n');
    const e = await openError(f);
    expect(e.code).toBe('E_MODEL_LFS_POINTER');
    expect(e.hint).toMatch(/git lfs pull/);
    expect(e.hint).toMatch(/models fetch/);
  });

  it('E_MODEL_NOT_ONNX for a text file and for protobuf-looking garbage', async () => {
    const f = path.join(dir, 'notes.onnx');
    writeFileSync(f, 'these are not weights\n');
    expect((await openError(f)).code).toBe('E_MODEL_NOT_ONNX');
    const g = path.join(dir, 'garbage.onnx');
    writeFileSync(g, Buffer.concat([Buffer.from([0x08, 0x06]), Buffer.alloc(4096, 0xff)]));
    expect((await openError(g)).code).toBe('E_MODEL_NOT_ONNX');
  });

  it('E_MODEL_LOAD (exit 1) for an ONNX file onnxruntime cannot load; E_MODEL_NOT_ONNX stays for files that are not ONNX', async () => {
    const f = path.join(dir, 'unknown-op.onnx');
    writeUnknownOperatorModel(f);
    const e = await openError(f);
    expect(e.code).toBe('E_MODEL_LOAD');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain('unknown-op.onnx');
    expect(e.message).toContain('NoSuchOp');
    expect(e.hint).toMatch(/models fetch|re-export/);
  });

  it('E_MODEL_SIGNATURE for inputs that are not RoBERTa token ids', async () => {
    const f = path.join(dir, 'float-input.onnx');
    writeFloatInputModel(f);
    const e = await openError(f);
    expect(e.code).toBe('E_MODEL_SIGNATURE');
    expect(e.message).toContain('pixels');
  });

  it('E_MODEL_TASK_MISMATCH for outputs that fit neither task', async () => {
    const f = path.join(dir, 'int-output.onnx');
    writeIntOutputModel(f);
    expect((await openError(f)).code).toBe('E_MODEL_TASK_MISMATCH');
  });

  it('E_CUDA_UNAVAILABLE for --device cuda:0 without CUDA binaries; --device auto falls back to CPU', async () => {
    const m = await testModel('sequence-classification', 'zoo');
    const e = await openError(m.path, { ...cpu, device: { kind: 'cuda', id: 0 } });
    expect(e.code).toBe('E_CUDA_UNAVAILABLE');
    expect(e.hint).toMatch(/ONNXRUNTIME_NODE_INSTALL|--device cpu/);
    const auto = await OnnxEngine.open(m.path, { ...cpu, device: { kind: 'auto', id: 0 } });
    expect(auto.info.device).toBe('cpu');
    await auto.close();
  });

  it('detects both signatures and heads of generated models', async () => {
    const cases = [
      ['sequence-classification', 'zoo', 'zoo', 'classification'],
      ['sequence-classification', 'hf', 'hf', 'classification'],
      ['base', 'zoo', 'zoo', 'base'],
      ['base', 'hf', 'hf', 'base'],
    ] as const;
    for (const [head, sig, kind, outputKind] of cases) {
      const m = await testModel(head, sig);
      const engine = await OnnxEngine.open(m.path, cpu);
      expect(engine.info.signature).toMatchObject({ kind, outputKind, idsType: 'int64' });
      if (outputKind === 'classification') expect(engine.info.signature.numLabels).toBe(2);
      else expect(engine.info.signature.hiddenSize).toBe(64);
      await engine.close();
    }
  });
});
