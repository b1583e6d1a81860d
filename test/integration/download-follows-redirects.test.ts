import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('a redirect (github.com/raw -> media host) is followed to the file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body, sha256 } = testPayload(256 * 1024);
  const server = await startRangeServer({ '/media/m.onnx': { body } }, { '/raw/m.onnx': '/media/m.onnx' });
  onTestFinished(() => server.close());
  const dest = path.join(dir, 'm.onnx');

  const result = await downloadFile({ url: `${server.url}/raw/m.onnx`, dest, expectedSize: body.length, sha256 });

  expect(result.sha256).toBe(sha256);
  expect(readFileSync(dest).equals(body)).toBe(true);
  expect(server.requests.map((r) => r.path)).toEqual(['/raw/m.onnx', '/media/m.onnx']);
});
