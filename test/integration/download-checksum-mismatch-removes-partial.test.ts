import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { RobertaBatchError } from '../../src/shared/errors.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('a sha256 mismatch fails with E_CHECKSUM and leaves neither dest nor .part', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body } = testPayload(2 * 1024 * 1024);
  const server = await startRangeServer({ '/m.onnx': { body } });
  onTestFinished(() => server.close());
  const dest = path.join(dir, 'm.onnx');
  const wrong = '0'.repeat(64);

  const err = await downloadFile({ url: `${server.url}/m.onnx`, dest, expectedSize: body.length, sha256: wrong })
    .catch((e: unknown) => e);

  expect(err).toBeInstanceOf(RobertaBatchError);
  const e = err as RobertaBatchError;
  expect(e.code).toBe('E_CHECKSUM');
  expect(e.message).toContain(wrong);
  expect(e.message).toContain(`${server.url}/m.onnx`);
  expect(e.hint).toMatch(/run the same command again/);
  expect(existsSync(dest)).toBe(false);
  expect(existsSync(`${dest}.part`)).toBe(false);
});
