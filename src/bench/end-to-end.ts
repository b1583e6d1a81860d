/**
 * (b) roberta-batch end to end: documents enqueued (enqueueDocuments, k per job) into a paused
 * queue, a real worker process started, the results exporter draining `<queue>-results` to
 * JSON Lines. The clock runs from the queue's resume to the last result written, so the figure
 * covers fetching, tokenization, dynamic batching, inference, publishing and export.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { enqueueDocuments } from '../producer/enqueue.js';
import { createLogger } from '../shared/logger.js';
import { bullConnection } from '../shared/redis.js';
import { ResultsExporter } from '../exporter/results-exporter.js';
import type { BenchDoc } from './corpus.js';
import { benchQueueName, removeBenchQueues } from './queues.js';
import type { Throughput } from './stats.js';
import { WorkerProcess } from './worker-process.js';

export interface EndToEndOptions {
  redisUrl: string;
  /** The CLI whose worker is measured (default this build's; bench --baseline-cli another's). */
  cli?: string;
  model: string;
  tokenizerDir: string;
  docs: BenchDoc[];
  /** Token count of all `docs` (after truncation), from the same tokenizer. */
  usefulTokens: number;
  docsPerJob?: number;
  /** Extra worker flags (`--max-batch-size 64` ...). */
  workerArgs?: string[];
  /** RSS of the worker once this many documents are exported (the growth check). */
  rssAfter?: number;
  /** Documents sent after the measurement, to reach the worker's largest batch (peak RSS). */
  largestBatch?: BenchDoc[];
  label: string;
}

export interface EndToEndResult extends Throughput {
  enqueueDocsPerSecond: number;
  workerPeakRssBytes?: number;
  workerRssAtBytes?: number;
  workerRssEndBytes?: number;
  eventLoopDelayP99Ms?: number;
  /** Peak RSS after the largest batch (`largestBatch`). */
  largestBatchPeakRssBytes?: number;
  largestBatchSeconds?: number;
}

// The producer's info lines would interleave with the report.
const quiet = createLogger({ level: 'warn' });

export async function measureEndToEnd(o: EndToEndOptions): Promise<EndToEndResult> {
  const name = benchQueueName(o.label);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bench-'));
  const queue = new Queue(name, { connection: bullConnection(o.redisUrl) });
  const exporter = new ResultsExporter({ redisUrl: o.redisUrl, queue: name, prefix: 'bull', out: path.join(dir, 'out.jsonl') });
  let worker: WorkerProcess | undefined;
  try {
    await queue.pause();
    const enq = await enqueueDocuments(o.docs, { redisUrl: o.redisUrl, queue: name, docsPerJob: o.docsPerJob ?? 1, runId: name, maxWaiting: 10_000_000, logger: quiet });
    if (enq.enqueued !== o.docs.length) throw new Error(`enqueued ${enq.enqueued} of ${o.docs.length} documents (rejected ${enq.rejected})`);
    worker = await WorkerProcess.start(['--redis-url', o.redisUrl, '--queue', name, '--model', o.model, '--tokenizer', o.tokenizerDir, ...(o.workerArgs ?? [])], undefined, undefined, o.cli);
    const before = await worker.metrics(); // also resets the event-loop histogram
    let rssAt: number | undefined;
    let seen = 0;
    exporter.onRecord = () => {
      seen++;
      if (o.rssAfter !== undefined && seen === o.rssAfter) rssAt = worker!.memory()?.rss;
    };
    await exporter.start();
    const t0 = performance.now();
    await queue.resume();
    await exporter.waitForCount(o.docs.length);
    const seconds = (performance.now() - t0) / 1000;
    const after = await worker.metrics();
    const mem = worker.memory();
    const result: EndToEndResult = {
      docs: o.docs.length,
      usefulTokens: o.usefulTokens,
      paddedTokens: after.paddedTokens - before.paddedTokens,
      batches: after.batches - before.batches,
      seconds,
      enqueueDocsPerSecond: enq.docsPerSecond,
      workerPeakRssBytes: mem?.peakRss,
      workerRssAtBytes: rssAt,
      workerRssEndBytes: mem?.rss,
      eventLoopDelayP99Ms: after.eventLoopDelayP99Seconds * 1000,
    };
    if (exporter.counts.failed) throw new Error(`${exporter.counts.failed} documents failed in the ${o.label} run`);
    if (o.largestBatch?.length) {
      const t1 = performance.now();
      await enqueueDocuments(o.largestBatch, { redisUrl: o.redisUrl, queue: name, runId: `${name}-long`, logger: quiet });
      await exporter.waitForCount(o.docs.length + o.largestBatch.length);
      result.largestBatchSeconds = (performance.now() - t1) / 1000;
      result.largestBatchPeakRssBytes = worker.memory()?.peakRss;
    }
    return result;
  } finally {
    await worker?.stop();
    await exporter.close();
    await queue.close();
    await removeBenchQueues(o.redisUrl, name);
    rmSync(dir, { recursive: true, force: true });
  }
}
