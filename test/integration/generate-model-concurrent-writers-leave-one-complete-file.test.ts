/** Two vitest forks may generate the same cached test model at once; readers must never see half a file. */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { generateModel } from '../../src/model/generate.js';

it('leaves one complete model and no temporary files when writers race for the same path', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rb-race-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'model.onnx');
  const results = await Promise.all([1, 2, 3].map(() => generateModel({ preset: 'tiny', head: 'base', signature: 'zoo', seed: 9, out })));
  expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
  expect(await readdir(dir)).toEqual(['model.onnx']);
  expect(createHash('sha256').update(await readFile(out)).digest('hex')).toBe(results[0].sha256);
});
