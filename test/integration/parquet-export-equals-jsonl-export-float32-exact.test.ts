/**
 * `results --format parquet` of an embedding run holds the same documents as
 * the JSON Lines export of the same results, with float32-identical embeddings in a
 * FixedSizeList<float32> column. Exported results leave Redis, so the records of the JSON
 * Lines export are published again, as the worker published them (JSON in a result job, 25 per
 * job), and exported to Parquet.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FixedSizeList } from 'apache-arrow';
import type { OkRecord } from '../../src/shared/types.js';
import { bullConnection } from '../../src/shared/redis.js';
import { resultsQueueName } from '../../src/shared/queues.js';
import { ResultsPublisher } from '../../src/worker/results-publisher.js';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { readParquetTable } from '../helpers/parquet.js';
import { redisUrl, removeQueues, uniqueQueueName } from '../helpers/queues.js';

const queue = uniqueQueueName('pq-equal');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-pq-'));
afterAll(async () => {
  await removeQueues(queue);
  rmSync(dir, { recursive: true, force: true });
});

it('writes the same ids and float32-identical embeddings as the JSON Lines export', async () => {
  const model = await testModel('base', 'hf');
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(syntheticDocs(300, 9, 'pq').map((d, i) => ({ ...d, source: 'test', n: i }))));
  const jsonl = path.join(dir, 'out.jsonl');
  const run = await runCli(['run', input, '--out', jsonl, '--task', 'embed', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER,
    '--skip-hash', '--queue', queue, '--intra-op-threads', '1'], { LOG_LEVEL: 'warn' });
  expect(run.code, run.output.slice(-2000)).toBe(0);

  const records = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OkRecord);
  const publisher = new ResultsPublisher(resultsQueueName(queue), bullConnection(redisUrl()), 'bull');
  await Promise.all(Array.from({ length: 12 }, (_, k) => publisher.publish(`pack-${k}`, records.slice(k * 25, k * 25 + 25))));
  await publisher.close();

  const pq = path.join(dir, 'out.parquet');
  const exp = await runCli(['results', '--queue', queue, '--format', 'parquet', '--out', pq], { LOG_LEVEL: 'warn' });
  expect(exp.code, exp.output.slice(-2000)).toBe(0);
  expect(exp.output).toContain(`exported 300 results to ${pq}`);

  expect(records).toHaveLength(300);
  const table = readParquetTable(pq);
  const hidden = model.config.hiddenSize;
  const type = table.schema.fields.find((f) => f.name === 'embedding')!.type;
  expect(type).toBeInstanceOf(FixedSizeList);
  expect(String(type)).toBe(`FixedSizeList[${hidden}]<Float32>`);

  const byId = new Map(records.map((r) => [r.id, r]));
  const ids = table.getChild('id')!.toArray() as string[];
  expect(new Set(ids).size).toBe(300);
  expect([...ids].sort()).toEqual([...byId.keys()].sort());
  for (let i = 0; i < table.numRows; i++) {
    const row = table.get(i)!.toJSON();
    const rec = byId.get(row.id as string)!;
    const fromJson = rec.embedding!.embedding;
    // The JSON numbers are float32 values printed exactly (shortest round-trip form).
    expect(fromJson.every((x) => Math.fround(x) === x)).toBe(true);
    const fromParquet = (row.embedding as { toArray(): Float32Array }).toArray();
    expect(fromParquet).toBeInstanceOf(Float32Array);
    expect(fromParquet).toHaveLength(hidden);
    expect(Buffer.from(fromParquet.buffer, fromParquet.byteOffset, fromParquet.byteLength).equals(Buffer.from(Float32Array.from(fromJson).buffer))).toBe(true);
    expect(row).toMatchObject({
      status: 'ok', model_name: rec.model.name, model_sha256: rec.model.sha256, token_count: rec.tokenCount, truncated: rec.truncated,
      pooling: rec.embedding!.pooling, normalized: rec.embedding!.normalized, meta: JSON.stringify(rec.meta),
    });
  }
}, 180_000);
