/**
 * `run /bin/ls` scored 198 "documents" and suggested --encoding latin1 (which would have made
 * all 494 garbage lines "succeed"); `run file.csv.gz` scored 4 garbage lines. Binary input is
 * refused with E_INPUT_BINARY before the model is loaded, gzip is read transparently, and
 * latin-1 is suggested only for lines whose bytes look like text.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { enqueueFile } from '../../src/producer/enqueue.js';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, useTestQueue } from '../helpers/test-queue.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-binary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

it('run refuses an executable, a zip and a tar.gz before loading the model, and reads a .csv.gz', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const common = ['--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash', '--intra-op-threads', '1'];
  // An executable: the node binary running this test is one on every platform.
  const zip = path.join(dir, 'docs.zip');
  writeFileSync(zip, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('docs.jsonl\n{"id":"a","text":"b"}\n')]));
  const tarGz = path.join(dir, 'docs.tar.gz');
  writeFileSync(tarGz, gzipSync(Buffer.concat([Buffer.from('docs.jsonl'), Buffer.alloc(90), Buffer.from('0000644\u00000001750\n{"id":"a","text":"b"}\n')])));
  for (const [input, what] of [[process.execPath, /holds a NUL byte at offset \d+: binary data, not text/], [zip, /is a zip archive, not text/], [tarGz, /\(after gunzip\) holds a NUL byte/]] as const) {
    const out = path.join(dir, `${path.basename(input)}.out.jsonl`);
    const res = await runCli(['run', input, '--out', out, '--format', 'text', ...common]);
    expect(res.code, res.output.slice(-2000)).toBe(1);
    expect(res.output).toMatch(/E_INPUT_BINARY: /);
    expect(res.output).toMatch(what);
    expect(res.output).not.toMatch(/--encoding latin1/);
    // Refused before Redis, workers and the model.
    expect(res.output).not.toMatch(/loading model|run starting/);
    expect(existsSync(out) ? lines(out) : []).toEqual([]);
  }

  const docs = syntheticDocs(30, 3);
  const gz = path.join(dir, 'reviews.csv.gz');
  writeFileSync(gz, gzipSync(`id,text\n${docs.map((d) => `${d.id},"${d.text.replace(/"/g, '""')}"`).join('\n')}\n`));
  const out = path.join(dir, 'gz.jsonl');
  const res = await runCli(['run', gz, '--out', out, ...common]);
  expect(res.code, res.output.slice(-2000)).toBe(0);
  const recs = lines(out);
  expect(recs.map((r) => r.id).sort()).toEqual(docs.map((d) => d.id).sort());
  expect(recs.every((r) => r.status === 'ok')).toBe(true);
}, 180_000);

it('suggests --encoding latin1 only for lines that look like text', async () => {
  const { name } = useTestQueue();
  const file = path.join(dir, 'mixed.jsonl');
  const text = toJsonl(syntheticDocs(3, 2, 'ok'));
  // Line 4: latin-1 text (é); line 5: invalid UTF-8 with control bytes, past the first 8,000 bytes.
  const filler = toJsonl(Array.from({ length: 200 }, (_, i) => ({ id: `f${i}`, text: 'filler text '.repeat(5) })));
  writeFileSync(file, Buffer.concat([
    Buffer.from(text),
    Buffer.from('{"id":"latin","text":"caf\xe9"}\n', 'latin1'),
    Buffer.from(filler),
    Buffer.from([0x7b, 0x01, 0x02, 0xff, 0xfe, 0x03, 0x7d, 0x0a]),
  ]));
  const errorsOut = path.join(dir, 'mixed.errors.jsonl');
  const s = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, errorsOut });
  expect(s.rejected).toBe(2);
  const [latin, garbage] = lines(errorsOut);
  expect(latin).toMatchObject({ lineNo: 4, code: 'E_INPUT_INVALID' });
  expect(latin.message).toMatch(/not valid UTF-8; re-run with --encoding latin1/);
  expect(garbage).toMatchObject({ lineNo: 205, code: 'E_INPUT_INVALID' });
  expect(garbage.message).toMatch(/binary data, not text/);
  expect(garbage.message).not.toMatch(/re-run with --encoding latin1/);
});
