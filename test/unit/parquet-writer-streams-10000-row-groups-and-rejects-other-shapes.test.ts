/**
 * The Parquet writer streams records in row groups of 10,000 rows, keeps
 * sentiment outputs exact (score float64, logits float32), refuses a record of another shape,
 * and writes no file when there is nothing to write.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FixedSizeList } from 'apache-arrow';
import type { OkRecord } from '../../src/shared/types.js';
import { ParquetResultsWriter } from '../../src/exporter/parquet-writer.js';
import { readParquetTable, rowGroupSizes } from '../helpers/parquet.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-pq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sentiment(i: number, labels = 3): OkRecord {
  const logits = Array.from(Float32Array.from({ length: labels }, (_, k) => Math.sin(i * 7 + k) * 3));
  return {
    v: 1, status: 'ok', id: `s-${i}`, model: { name: 'tiny', sha256: 'f'.repeat(64) }, task: 'sentiment', workerId: 'w', finishedAt: '2026-01-01T00:00:00.000Z',
    tokenCount: 3 + (i % 40), truncated: i % 97 === 0, windows: 1, batchSize: 8, timings: { endToEndMs: 1, batchWaitMs: 0, inferenceMs: 1 },
    meta: i % 2 ? { source: 'unit', i } : undefined,
    sentiment: { label: ['negative', 'neutral', 'positive'][i % labels], score: 1 / (1 + Math.exp(-logits[0])), logits },
  };
}

it('writes 25,000 records as row groups of 10,000, 10,000 and 5,000 with exact values', async () => {
  const out = path.join(dir, 'sentiment.parquet');
  const w = new ParquetResultsWriter({ out });
  await w.open(new Set());
  const records = Array.from({ length: 25_000 }, (_, i) => sentiment(i));
  for (let i = 0; i < records.length; i += 500) await Promise.all(records.slice(i, i + 500).map((r) => w.write(r)));
  expect(existsSync(out)).toBe(false); // only <out>.part until close()
  await w.close();
  expect(existsSync(`${out}.part`)).toBe(false);

  expect(await rowGroupSizes(out)).toEqual([10_000, 10_000, 5_000]);
  const t = readParquetTable(out);
  const logitsType = t.schema.fields.find((f) => f.name === 'logits')!.type as FixedSizeList;
  expect(logitsType).toBeInstanceOf(FixedSizeList);
  expect(logitsType.listSize).toBe(3);
  expect(t.numRows).toBe(25_000);
  for (const i of [0, 1, 9_999, 10_000, 24_999]) {
    const row = t.get(i)!.toJSON();
    const r = records[i];
    expect(row.id).toBe(r.id);
    expect(row.label).toBe(r.sentiment!.label);
    expect(row.score).toBe(r.sentiment!.score);
    expect(Array.from(row.logits as Float32Array)).toEqual(r.sentiment!.logits);
    expect(row.token_count).toBe(r.tokenCount);
    expect(row.truncated).toBe(r.truncated);
    expect(row.meta).toBe(r.meta === undefined ? null : JSON.stringify(r.meta));
  }
});

it('refuses a record of another shape with E_OUTPUT_SCHEMA, and writes nothing without records', async () => {
  const out = path.join(dir, 'mixed.parquet');
  const w = new ParquetResultsWriter({ out });
  await w.open(new Set());
  await w.write(sentiment(1, 3));
  await expect(w.write(sentiment(2, 2))).rejects.toMatchObject({ code: 'E_OUTPUT_SCHEMA' });
  await w.close();
  expect(readParquetTable(out).numRows).toBe(1);

  const empty = path.join(dir, 'empty.parquet');
  const e = new ParquetResultsWriter({ out: empty });
  await e.open(new Set());
  await e.close();
  expect(existsSync(empty)).toBe(false);
});
