import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('a connection dropped mid-body is retried in the same call, resuming from the .part', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body, sha256 } = testPayload(3 * 1024 * 1024);
  const server = await startRangeServer({ '/m.onnx': { body, cutAfterBytes: 1024 * 1024 } });
  onTestFinished(() => server.close());
  const dest = path.join(dir, 'm.onnx');

  const result = await downloadFile({ url: `${server.url}/m.onnx`, dest, expectedSize: body.length, sha256, retryDelaysMs: [20] });

  expect(result.sha256).toBe(sha256);
  expect(readFileSync(dest).equals(body)).toBe(true);
  expect(existsSync(`${dest}.part`)).toBe(false);
  expect(server.requests).toHaveLength(2);
  expect(server.requests[1].range).toMatch(/^bytes=[1-9]\d*-$/);
});
