/**
 * `roberta-batch run`: the whole pipeline in one process, for one input file.
 * Redis (found or started) → workers (model loaded first) → producer → exporter → summary.
 *
 * Each run uses its own queue (named by its run id, removed afterwards) unless --queue names one,
 * so two runs over the same file both produce complete outputs.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Histogram } from 'prom-client';
import type { WorkerConfig } from '../shared/config.js';
import { RobertaBatchError } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { resultsQueueName } from '../shared/queues.js';
import { ActiveRunEntry } from '../shared/active-runs.js';
import { bullConnection, connect, ensureRedis } from '../shared/redis.js';
import type { ResultRecord } from '../shared/types.js';
import { enqueueFile, generateRunId, type EnqueueSummary } from '../producer/enqueue.js';
import { checkInput, type ReaderOptions } from '../producer/readers.js';
import { errorsPathFor, ResultsExporter } from '../worker/results-exporter.js';
import { RobertaWorker } from '../worker/worker.js';

export interface RunOptions {
  input: string;
  out: string;
  errorsOut?: string;
  workers: number;
  /** Keep the run's queues in Redis afterwards (default: removed). */
  keepQueues: boolean;
  /**
   * Aborting (first SIGINT/SIGTERM) stops reading the input, lets the workers finish their jobs
   * in flight and ends with E_SHUTDOWN after the usual clean-up (workers, exporter, the queues,
   * a private redis-server).
   */
  signal?: AbortSignal;
  /** An explicit queue: resume-friendly (outputs appended, queue kept). */
  queue?: string;
  /** How the input is read, and the job size limit its oversize lines are judged by. */
  reader: ReaderOptions & { maxJobBytes?: number };
  docsPerJob: number;
  /** Unset: 127.0.0.1:6379 if something listens there, else a private redis-server. */
  redisUrl?: string;
  worker: Omit<WorkerConfig, 'queue' | 'workerId'>;
}

export interface RunSummary {
  runId: string;
  queue: string;
  redis: string;
  documents: number;
  succeeded: number;
  failed: number;
  failuresByCode: Record<string, number>;
  rejectedLines: number;
  alreadyQueued: number;
  elapsedSeconds: number;
  documentsPerSecond: number;
  tokensPerSecond: number;
  meanBatchSize: number;
  paddingFraction: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  out: string;
  errorsOut: string;
  model: { name: string; sha256: string; device: string; signature: string } | undefined;
  enqueue: EnqueueSummary;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function histogramSumCount(h: Histogram): Promise<{ sum: number; count: number }> {
  const v = await h.get();
  const sum = v.values.find((x) => x.metricName?.endsWith('_sum'))?.value ?? 0;
  const count = v.values.find((x) => x.metricName?.endsWith('_count'))?.value ?? 0;
  return { sum, count };
}

async function queueIdle(q: Queue): Promise<boolean> {
  const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
  return Object.values(c).every((n) => n === 0);
}

export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const log = logger();
  const started = performance.now();
  // Before Redis and the model: a wrong path or a binary file must not cost a model load and hash.
  checkInput(opts.input);
  const redis = await ensureRedis(opts.redisUrl);
  const runId = generateRunId();
  const queue = opts.queue ?? runId;
  const errorsOut = opts.errorsOut ?? errorsPathFor(opts.out);
  mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  mkdirSync(path.dirname(path.resolve(errorsOut)), { recursive: true });
  if (!opts.queue) {
    rmSync(opts.out, { force: true });
    rmSync(errorsOut, { force: true });
  }
  log.info({ runId, queue, redis: redis.source, input: opts.input, out: opts.out }, 'run starting');

  const workers: RobertaWorker[] = [];
  const exporter = new ResultsExporter({ redisUrl: redis.url, queue, prefix: opts.worker.prefix, resultsQueue: opts.worker.resultsQueue, out: opts.out, errorsOut });
  const latencies: number[] = [];
  const failuresByCode: Record<string, number> = {};
  exporter.onRecord = (rec: ResultRecord) => {
    if (rec.status === 'ok') latencies.push(rec.timings.endToEndMs);
    else failuresByCode[rec.code] = (failuresByCode[rec.code] ?? 0) + 1;
  };
  const connection = bullConnection(redis.url);
  const mainQueue = new Queue(queue, { connection, prefix: opts.worker.prefix });
  const client = connect(redis.url);
  client.on('error', () => {});
  let active: ActiveRunEntry | undefined;
  try {
    await client.connect();
    // So that `status` without --queue shows this run while it lasts.
    active = await ActiveRunEntry.start(client, opts.worker.prefix, queue, runId);
    // Workers first: loading the model takes seconds, documents wait in Redis meanwhile.
    for (let i = 0; i < opts.workers; i++) {
      const w = new RobertaWorker({ ...opts.worker, redisUrl: redis.url, queue, workerId: `${runId}-w${i}`, metricsPort: i === 0 ? opts.worker.metricsPort : 0 }, log);
      workers.push(w);
    }
    await Promise.all(workers.map((w) => w.start()));
    const enqueue = await enqueueFile(opts.input, {
      ...opts.reader,
      redisUrl: redis.url,
      queue,
      prefix: opts.worker.prefix,
      runId,
      docsPerJob: opts.docsPerJob,
      maxDocBytes: opts.worker.maxDocBytes,
      errorsOut,
      allowEviction: opts.worker.allowEviction,
      inputLabel: opts.input,
      signal: opts.signal,
    });
    await exporter.start();
    // Done when nothing is left to process and every published result has been exported.
    let idleChecks = 0;
    while (idleChecks < 2) {
      if (opts.signal?.aborted) {
        throw new RobertaBatchError('E_SHUTDOWN', `run ${runId} interrupted: ${exporter.exported} documents exported to ${opts.out}`, {
          hint: opts.queue ? 'run the same command again to finish (the queue is kept)' : 'run it again with --queue NAME to be able to resume an interrupted run',
        });
      }
      await new Promise((r) => setTimeout(r, 100));
      idleChecks = (await queueIdle(mainQueue)) ? idleChecks + 1 : 0;
    }
    await exporter.waitUntilDrained();
    const orphans = await exporter.recordFailedJobsWithoutResult();
    if (orphans) log.warn({ orphans }, 'documents whose jobs failed without a result record were recorded as failures');

    const elapsedSeconds = (performance.now() - started) / 1000;
    let useful = 0;
    let padded = 0;
    let batchSum = 0;
    let batches = 0;
    for (const w of workers) {
      const toks = await w.metrics.tokens.get();
      for (const v of toks.values) {
        if (v.labels.kind === 'useful') useful += v.value;
        if (v.labels.kind === 'padded') padded += v.value;
      }
      const b = await histogramSumCount(w.metrics.batchSize);
      batchSum += b.sum;
      batches += b.count;
    }
    latencies.sort((a, b) => a - b);
    const info = workers[0]?.modelInfo;
    return {
      runId, queue, redis: redis.source,
      documents: exporter.exported + enqueue.rejected,
      succeeded: exporter.counts.ok,
      failed: exporter.counts.failed + enqueue.rejected,
      failuresByCode,
      rejectedLines: enqueue.rejected,
      alreadyQueued: enqueue.alreadyQueued,
      elapsedSeconds,
      documentsPerSecond: exporter.exported / elapsedSeconds,
      tokensPerSecond: useful / elapsedSeconds,
      meanBatchSize: batches ? batchSum / batches : 0,
      paddingFraction: padded ? 1 - useful / padded : 0,
      latencyP50Ms: percentile(latencies, 50),
      latencyP95Ms: percentile(latencies, 95),
      out: opts.out,
      errorsOut,
      model: info && { name: info.name, sha256: info.sha256, device: info.device, signature: info.signature.kind },
      enqueue,
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.close()));
    await exporter.close();
    if (!opts.keepQueues && !opts.queue) {
      await mainQueue.obliterate({ force: true }).catch(() => {});
      const rq = new Queue(resultsQueueName(queue, opts.worker.resultsQueue), { connection, prefix: opts.worker.prefix });
      await rq.obliterate({ force: true }).catch(() => {});
      await rq.close();
    }
    await mainQueue.close();
    await active?.close();
    client.disconnect();
    await redis.stop();
  }
}
