/**
 * Result job data version 3 keeps the fields that every record of a job shares once; read
 * back, each record must be the one the worker built, key for key in the same order (the
 * exported JSON Lines must not change), and versions 1 and 2 must still be read.
 */
import { expect, it } from 'vitest';
import { failedRecord } from '../../src/shared/failed-record.js';
import { packResultJob, recordsOf } from '../../src/shared/result-job.js';
import type { OkRecord, ResultRecord } from '../../src/shared/types.js';

const model = { name: 'roberta-sequence-classification-9', sha256: 'ab'.repeat(32) };

function ok(id: string, extra: Partial<OkRecord> = {}): OkRecord {
  // The worker's field order (worker.ts #processDoc).
  return {
    v: 1, status: 'ok', id, runId: 'run-1', meta: { n: id.length }, model, task: 'sentiment', workerId: 'w-0',
    finishedAt: '2026-12-02T19:00:00.123Z', tokenCount: 27, truncated: false, windows: 1, batchSize: 32,
    timings: { endToEndMs: 1234, batchWaitMs: 12, inferenceMs: 3 },
    sentiment: { label: 'positive', score: 0.75, logits: [-0.5, 0.6] },
    ...extra,
  };
}

const roundTrip = (data: unknown) => recordsOf(JSON.parse(JSON.stringify(data)));
const lines = (records: ResultRecord[]) => records.map((r) => JSON.stringify(r));

it('a job of one worker is written once-shared (v3) and read back as the same JSON lines', () => {
  const failed = failedRecord({ id: 'bad' }, { model, task: 'sentiment', workerId: 'w-0' }, 'run-1', 'E_INPUT_INVALID', 'text is empty');
  const records: ResultRecord[] = [ok('a'), ok('b', { meta: undefined }), failed, ok('c', { sentiment: undefined, embedding: { embedding: [0.1, -0.2], pooling: 'mean', normalized: false } })];
  const data = packResultJob('pack-1', records);
  expect(data.v).toBe(3);
  expect(lines(roundTrip(data))).toEqual(lines(records));
  // The shared fields are not repeated per record.
  const text = JSON.stringify(data);
  expect(text.split(model.sha256)).toHaveLength(2);
  expect(text.length).toBeLessThan(JSON.stringify({ v: 2, jobId: 'pack-1', records }).length * 0.75);
});

it('a job without a run id, or of records that differ in a shared field, is read back unchanged', () => {
  const noRun = [ok('a', { runId: undefined }), ok('b', { runId: undefined })];
  expect(lines(roundTrip(packResultJob('j', noRun)))).toEqual(lines(noRun));
  const mixed = [ok('a'), ok('b', { workerId: 'w-1' })];
  const data = packResultJob('j', mixed);
  expect(data.v).toBe(2);
  expect(lines(roundTrip(data))).toEqual(lines(mixed));
});

it('versions 1 and 2 are still read; anything else gives no records', () => {
  const r = ok('a');
  expect(roundTrip(r)).toEqual([r]);
  expect(roundTrip({ v: 2, jobId: 'j', records: [r] })).toEqual([r]);
  expect(recordsOf(null)).toEqual([]);
  expect(recordsOf('text')).toEqual([]);
  expect(recordsOf({ v: 3, jobId: 'j', records: [] })).toEqual([]);
});
