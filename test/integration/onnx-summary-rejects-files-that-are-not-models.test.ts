import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readOnnxSummary } from '../../src/model/summary.js';
import { RobertaBatchError } from '../../src/shared/errors.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'rb-notmodel-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

// The summary's checks are the worker's (model/model-file.ts): the same codes and messages.
async function problemOf(file: string): Promise<{ code: string; message: string }> {
  try {
    await readOnnxSummary(file);
  } catch (err) {
    expect(err).toBeInstanceOf(RobertaBatchError);
    return { code: (err as RobertaBatchError).code, message: (err as Error).message };
  }
  throw new Error(`${file} was accepted`);
}

it('names the problem: missing, a directory, empty, an LFS pointer, not protobuf, not a model', async () => {
  const write = async (name: string, data: string | Uint8Array): Promise<string> => {
    const file = path.join(dir, name);
    await writeFile(file, data);
    return file;
  };
  const lfs = await write('lfs.onnx', 'version https://git-lfs.github.com/spec/v1\noid sha256:ad476a33a4b227f6e6b2e1c7192df1b61640657f26b390857ab943de66236c0b\nsize 498649858\n');

  expect(await problemOf(path.join(dir, 'missing.onnx'))).toMatchObject({ code: 'E_MODEL_NOT_FOUND', message: expect.stringContaining('not found') });
  expect(await problemOf(dir)).toMatchObject({ code: 'E_MODEL_NOT_FOUND', message: expect.stringContaining('not a file') });
  expect(await problemOf(await write('empty.onnx', ''))).toMatchObject({ code: 'E_MODEL_EMPTY', message: expect.stringContaining('0 bytes') });
  expect(await problemOf(lfs)).toMatchObject({ code: 'E_MODEL_LFS_POINTER', message: expect.stringContaining('Git LFS pointer') });
  expect(await problemOf(await write('html.onnx', '<!DOCTYPE html><html>404</html>'))).toMatchObject({ code: 'E_MODEL_NOT_ONNX' });
  expect(await problemOf(await write('json.onnx', JSON.stringify({ model: 'roberta' })))).toMatchObject({ code: 'E_MODEL_NOT_ONNX' });
});
