import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { fetchModel } from '../../src/model/fetch.js';
import { getModel } from '../../src/model/registry.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('fetchModel with baseUrl downloads model.onnx and tokenizer.json into models/<name>/', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-models-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const real = getModel('roberta-sequence-classification-9');
  // The real zoo file is 475 MiB; a stand-in at the same mirror path with its own pinned hash.
  const model = testPayload(2 * 1024 * 1024);
  const tokenizer = Buffer.from(JSON.stringify({ version: '1.0', model: { type: 'BPE' } }));
  const entry = { ...real, model: { ...real.model, size: model.body.length, sha256: model.sha256 } };
  const server = await startRangeServer({
    [`/mirror/${real.model.path}`]: { body: model.body },
    [`/mirror/${real.tokenizer.json.path}`]: { body: tokenizer },
  });
  onTestFinished(() => server.close());

  const bundle = await fetchModel(entry, { dir, baseUrl: `${server.url}/mirror/`, retryDelaysMs: [] });

  const bundleDir = path.join(dir, 'roberta-sequence-classification-9');
  expect(bundle).toMatchObject({
    name: 'roberta-sequence-classification-9',
    task: 'sentiment',
    dir: bundleDir,
    model: path.join(bundleDir, 'model.onnx'),
    tokenizer: { json: path.join(bundleDir, 'tokenizer.json') },
  });
  expect(readdirSync(bundleDir).sort()).toEqual(['model.onnx', 'tokenizer.json']);
  expect(readFileSync(bundle.model).equals(model.body)).toBe(true);
  expect(server.requests.map((r) => r.path)).toEqual([
    '/mirror/validated/text/machine_comprehension/roberta/model/roberta-sequence-classification-9.onnx',
    '/mirror/FacebookAI/roberta-base/resolve/main/tokenizer.json',
  ]);

  // A second fetch finds the bundle complete and downloads nothing.
  const again = await fetchModel(entry, { dir, baseUrl: `${server.url}/mirror` });
  expect(again.downloaded).toEqual([]);
  expect(server.requests).toHaveLength(2);
});
