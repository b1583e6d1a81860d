import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('an existing file with the right size and sha256 is not downloaded again', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body, sha256 } = testPayload(1024 * 1024);
  const server = await startRangeServer({ '/m.onnx': { body } });
  onTestFinished(() => server.close());
  const dest = path.join(dir, 'm.onnx');
  writeFileSync(dest, body);
  const mtime = statSync(dest).mtimeMs;

  const result = await downloadFile({ url: `${server.url}/m.onnx`, dest, expectedSize: body.length, sha256 });

  expect(result).toMatchObject({ skipped: true, bytes: body.length, sha256 });
  expect(server.requests).toHaveLength(0);
  expect(statSync(dest).mtimeMs).toBe(mtime);
});
