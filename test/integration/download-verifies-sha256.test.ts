import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('a download streams the whole file, verifies its sha256 and renames it into place', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body, sha256 } = testPayload(3 * 1024 * 1024 + 17);
  const server = await startRangeServer({ '/files/model.onnx': { body } });
  onTestFinished(() => server.close());

  const dest = path.join(dir, 'nested', 'model.onnx');
  const seen: number[] = [];
  const result = await downloadFile({
    url: `${server.url}/files/model.onnx`,
    dest,
    expectedSize: body.length,
    sha256: sha256.toUpperCase(),
    onProgress: (p) => seen.push(p.received),
  });

  expect(result).toMatchObject({ path: dest, bytes: body.length, sha256, skipped: false, resumedFrom: 0 });
  expect(readFileSync(dest).equals(body)).toBe(true);
  expect(existsSync(`${dest}.part`)).toBe(false);
  expect(seen.at(-1)).toBe(body.length);
  expect(server.requests).toHaveLength(1);
  expect(server.requests[0].range).toBeUndefined();
  expect(server.requests[0].acceptEncoding).toBe('identity');
});
