import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { downloadFile } from '../../src/model/download.js';
import { startRangeServer, testPayload } from './support/range-server.js';

test('a 416 for a .part that already holds the whole file completes it without a body', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const { body, sha256 } = testPayload(300 * 1024);
  const server = await startRangeServer({ '/tokenizer.json': { body } });
  onTestFinished(() => server.close());
  const dest = path.join(dir, 'tokenizer.json');
  // Size unknown (as for the tokenizer files): only the server can say the part is whole.
  writeFileSync(`${dest}.part`, body);

  const result = await downloadFile({ url: `${server.url}/tokenizer.json`, dest, sha256 });

  expect(server.requests.map((r) => r.range)).toEqual([`bytes=${body.length}-`]);
  expect(result).toMatchObject({ bytes: body.length, sha256, resumedFrom: body.length });
  expect(readFileSync(dest).equals(body)).toBe(true);
  expect(existsSync(`${dest}.part`)).toBe(false);
});
