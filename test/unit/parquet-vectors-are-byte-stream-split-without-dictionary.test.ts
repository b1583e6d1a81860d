/**
 * docs/OUTPUT.md promises the vector columns (embedding, logits) in BYTE_STREAM_SPLIT encoding
 * without a dictionary: read back the encodings each column chunk records in the file's own
 * metadata, for both tasks.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pw from 'parquet-wasm';
import { afterAll, expect, it } from 'vitest';
import type { OkRecord } from '../../src/shared/types.js';
import { ParquetResultsWriter } from '../../src/exporter/parquet-writer.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-pq-enc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function record(i: number, task: 'embed' | 'sentiment'): OkRecord {
  const base = {
    v: 1 as const, status: 'ok' as const, id: `d-${i}`, model: { name: 'tiny', sha256: 'f'.repeat(64) }, task, workerId: 'w', finishedAt: '2026-01-01T00:00:00.000Z',
    tokenCount: 5, truncated: false, windows: 1, batchSize: 8, timings: { endToEndMs: 1, batchWaitMs: 0, inferenceMs: 1 },
  };
  const floats = (n: number) => Array.from(Float32Array.from({ length: n }, (_, k) => Math.sin(i * 13 + k)));
  return task === 'embed'
    ? { ...base, embedding: { embedding: floats(32), pooling: 'mean', normalized: false } }
    : { ...base, sentiment: { label: 'positive', score: 0.7, logits: floats(2) } };
}

async function encodingsByColumn(file: string): Promise<Map<string, string[]>> {
  const f = await pw.ParquetFile.fromFile(new Blob([readFileSync(file)]));
  const md = f.metadata();
  const out = new Map<string, string[]>();
  for (let g = 0; g < md.numRowGroups(); g++) {
    const rg = md.rowGroup(g);
    for (let c = 0; c < rg.numColumns(); c++) {
      const col = rg.column(c);
      out.set(col.columnPath().join('.'), col.encodings().map((e) => pw.Encoding[e]));
    }
  }
  return out;
}

for (const [task, column] of [['embed', 'embedding'], ['sentiment', 'logits']] as const) {
  it(`${task}: the ${column} column is BYTE_STREAM_SPLIT with no dictionary page`, async () => {
    const out = path.join(dir, `${task}.parquet`);
    const w = new ParquetResultsWriter({ out });
    await w.open(new Set());
    for (let i = 0; i < 300; i++) await w.write(record(i, task));
    await w.close();
    const cols = await encodingsByColumn(out);
    const vectorCols = [...cols.entries()].filter(([p]) => p.split('.')[0] === column);
    expect(vectorCols.length, `columns: ${[...cols.keys()].join(', ')}`).toBe(1);
    const [[, encodings]] = vectorCols;
    expect(encodings).toContain('BYTE_STREAM_SPLIT');
    expect(encodings).not.toContain('RLE_DICTIONARY');
    expect(encodings).not.toContain('PLAIN_DICTIONARY');
  });
}
