import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('a server that answers a Range request with 200 still yields a correct file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body, sha256 } = testPayload(3 * 1024 * 1024);
  const server = await startRangeServer({ '/m.onnx': { body, ignoreRange: true } });
  onTestFinished(() => server.close());
  const dest = path.join(dir, 'm.onnx');
  // The state an interrupted earlier run leaves behind, written directly.
  writeFileSync(`${dest}.part`, body.subarray(0, 1_000_000));

  const result = await downloadFile({ url: `${server.url}/m.onnx`, dest, expectedSize: body.length, sha256 });

  expect(server.requests[0].range).toBe('bytes=1000000-');
  expect(result.sha256).toBe(sha256);
  expect(readFileSync(dest).equals(body)).toBe(true);
  expect(existsSync(`${dest}.part`)).toBe(false);
});
