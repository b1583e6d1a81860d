import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ModelFileError, readOnnxSummary } from '../../src/model/summary.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'rb-notmodel-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function problemOf(file: string): Promise<{ problem: string; message: string }> {
  try {
    await readOnnxSummary(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelFileError);
    return { problem: (err as ModelFileError).problem, message: (err as Error).message };
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

  expect(await problemOf(path.join(dir, 'missing.onnx'))).toMatchObject({ problem: 'not-found', message: expect.stringContaining('not found') });
  expect(await problemOf(dir)).toMatchObject({ problem: 'not-a-file' });
  expect(await problemOf(await write('empty.onnx', ''))).toMatchObject({ problem: 'empty', message: expect.stringContaining('0 bytes') });
  expect(await problemOf(lfs)).toMatchObject({ problem: 'lfs-pointer', message: expect.stringContaining('Git LFS pointer') });
  expect(await problemOf(await write('html.onnx', '<!DOCTYPE html><html>404</html>'))).toMatchObject({ problem: 'not-onnx' });
  expect(await problemOf(await write('json.onnx', JSON.stringify({ model: 'roberta' })))).toMatchObject({ problem: 'not-onnx' });
});
