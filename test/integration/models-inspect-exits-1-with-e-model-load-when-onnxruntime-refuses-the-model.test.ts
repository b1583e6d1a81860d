/**
 * A file that is ONNX but that onnxruntime cannot load (here an operator no runtime has)
 * fails as E_MODEL_LOAD with exit 1; E_MODEL_NOT_ONNX is kept for files that are not ONNX.
 */
import { writeFileSync} from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { writeUnknownOperatorModel } from '../helpers/odd-models.js';
import { tempDir } from '../helpers/temp-dir.js';

it('models inspect: E_MODEL_LOAD, exit 1, for a model onnxruntime refuses; E_MODEL_NOT_ONNX for text', async () => {
  const dir = tempDir('rb-model-load-');
  const model = path.join(dir, 'unknown-op.onnx');
  writeUnknownOperatorModel(model);
  const refused = spawnCli(['models', 'inspect', model], { LOG_LEVEL: 'warn' });
  expect(await refused.exited).toBe(1);
  expect(refused.output()).toMatch(/E_MODEL_LOAD: onnxruntime cannot load .*unknown-op\.onnx: .*NoSuchOp/);

  const text = path.join(dir, 'notes.onnx');
  writeFileSync(text, 'these are not weights\n');
  const notOnnx = spawnCli(['models', 'inspect', text], { LOG_LEVEL: 'warn' });
  expect(await notOnnx.exited).toBe(1);
  expect(notOnnx.output()).toContain('E_MODEL_NOT_ONNX');
});
