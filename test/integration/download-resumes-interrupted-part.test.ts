import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { RobertaBatchError } from '../../src/shared/errors.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('a download cut mid-body keeps its .part and the next call resumes it with a Range request', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body, sha256 } = testPayload(4 * 1024 * 1024);
  const server = await startRangeServer({ '/m.onnx': { body, cutAfterBytes: 1024 * 1024 } });
  onTestFinished(() => server.close());
  const dest = path.join(dir, 'm.onnx');
  const opts = { url: `${server.url}/m.onnx`, dest, expectedSize: body.length, sha256, retryDelaysMs: [] };

  const first = await downloadFile(opts).catch((e: unknown) => e);
  expect(first).toBeInstanceOf(RobertaBatchError);
  expect((first as RobertaBatchError).code).toBe('E_DOWNLOAD');
  expect(existsSync(dest)).toBe(false);
  const partSize = statSync(`${dest}.part`).size;
  expect(partSize).toBeGreaterThan(0);
  expect(partSize).toBeLessThan(body.length);

  const second = await downloadFile(opts);
  expect(second.resumedFrom).toBe(partSize);
  expect(second.sha256).toBe(sha256);
  expect(readFileSync(dest).equals(body)).toBe(true);
  expect(existsSync(`${dest}.part`)).toBe(false);
  expect(server.requests.map((r) => r.range)).toEqual([undefined, `bytes=${partSize}-`]);
});
