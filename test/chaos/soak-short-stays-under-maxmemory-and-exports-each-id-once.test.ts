/**
 * The short soak (`roberta-batch soak --short`): 20,000 documents through the producer's
 * back-pressure, one worker process and a following exporter, on a private redis-server with
 * maxmemory 16mb and noeviction. Redis never reaches maxmemory (no E_REDIS_OOM refusal), ends
 * holding one marker per document (at most 200 bytes per document, BullMQ's scripts included),
 * and every id is exported exactly once. The full run (1,000,000 documents under 256mb) is
 * `npm run soak`; its output is in docs/RELIABILITY.md.
 */
import { expect, it } from 'vitest';
import type { SoakReport } from '../../src/bench/soak.js';
import { runCli } from '../helpers/cli.js';

it('stays under maxmemory 16mb and exports each of 20,000 ids once', async () => {
  const r = await runCli(['soak', '--short', '--json'], { LOG_LEVEL: 'warn' }, 300_000);
  expect(r.code, r.output.slice(-3000)).toBe(0);
  const report = JSON.parse(r.output.split('\n').find((l) => l.startsWith('{"ok"'))!) as SoakReport;
  console.log(`soak --short: peak ${report.peakUsedMemory} of maxmemory ${report.maxmemoryBytes}, ${report.bytesPerDocumentAtEnd} bytes/document at the end, ${report.docsPerSecond} docs/s`);
  expect(report).toMatchObject({ ok: true, documents: 20_000, exported: 20_000, duplicates: 0, missing: 0, redisOomRefusals: 0 });
  expect(report.maxmemoryBytes).toBe(16 * 1024 * 1024);
  expect(report.peakUsedMemory).toBeLessThan(report.maxmemoryBytes);
  expect(report.bytesPerDocumentAtEnd).toBeLessThanOrEqual(200);
}, 320_000);
