import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { RobertaBatchError } from '../../src/shared/errors.js';
import { startRangeServer } from './support/range-server.js';

test('a 404 fails at once with E_DOWNLOAD naming the status and the URL', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startRangeServer({});
  onTestFinished(() => server.close());
  const url = `${server.url}/missing/model.onnx`;
  const dest = path.join(dir, 'model.onnx');

  const err = await downloadFile({ url, dest, retryDelaysMs: [10, 10] }).catch((e: unknown) => e);

  expect(err).toBeInstanceOf(RobertaBatchError);
  const e = err as RobertaBatchError;
  expect(e.code).toBe('E_DOWNLOAD');
  expect(e.message).toContain('404');
  expect(e.message).toContain(url);
  expect(e.context).toMatchObject({ status: 404, url });
  expect(server.requests).toHaveLength(1); // a 404 is not retried
  expect(existsSync(dest)).toBe(false);
});
