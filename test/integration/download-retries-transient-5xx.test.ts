import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('503 answers are retried with backoff until the file comes through', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body, sha256 } = testPayload(512 * 1024);
  const server = await startRangeServer({ '/m.onnx': { body, failTimes: 2 } });
  onTestFinished(() => server.close());
  const dest = path.join(dir, 'm.onnx');

  const result = await downloadFile({ url: `${server.url}/m.onnx`, dest, sha256, retryDelaysMs: [20, 20, 20] });

  expect(result.sha256).toBe(sha256);
  expect(readFileSync(dest).equals(body)).toBe(true);
  expect(server.requests).toHaveLength(3);
});
