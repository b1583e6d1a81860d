import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { fetchModel } from '../../src/model/fetch.js';
import { getModel } from '../../src/model/registry.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('fetchModel fetches vocab.json + merges.txt when tokenizer.json is missing', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-models-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const real = getModel('roberta-base-11');
  const model = testPayload(64 * 1024);
  const entry = { ...real, model: { ...real.model, size: model.body.length, sha256: model.sha256 } };
  const server = await startRangeServer({
    [`/${real.model.path}`]: { body: model.body },
    [`/${real.tokenizer.vocab.path}`]: { body: Buffer.from('{"<s>":0}') },
    [`/${real.tokenizer.merges.path}`]: { body: Buffer.from('#version: 0.2\n') },
  });
  onTestFinished(() => server.close());

  const bundle = await fetchModel(entry, { dir, baseUrl: server.url, retryDelaysMs: [] });

  const bundleDir = path.join(dir, 'roberta-base-11');
  expect(bundle.task).toBe('embed');
  expect(bundle.tokenizer).toEqual({ vocab: path.join(bundleDir, 'vocab.json'), merges: path.join(bundleDir, 'merges.txt') });
  expect(readdirSync(bundleDir).sort()).toEqual(['merges.txt', 'model.onnx', 'vocab.json']);
});
