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
import { Cluster } from 'ioredis';
import type { Histogram } from 'prom-client';
import type { WorkerConfig } from '../shared/config.js';
import { E } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { queueOptions, resultsQueueName } from '../shared/queues.js';
import { bullConnection, connect, type RedisClient } from '../shared/redis.js';
import { redactRedisUrl } from '../shared/redis-url.js';
import { waitForRedis } from '../shared/redis-checks.js';
import { ensureRedis } from './ensure-redis.js';
import { ActiveRunEntry } from '../shared/active-runs.js';
import { percentile, sleep } from '../shared/util.js';
import type { ResultRecord } from '../shared/types.js';
import { enqueueFile, generateRunId, type EnqueueSummary } from '../producer/enqueue.js';
import { checkInput, type ReaderOptions } from '../producer/readers.js';
import { errorsPathFor, ResultsExporter } from '../exporter/results-exporter.js';
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
  /** Documents exported so far, and how many to expect once the input is read (for a progress line). */
  onProgress?: (done: number, total: number | undefined) => void;
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

/** Clean-up must end even when Redis went away mid-run (its commands would wait for a reconnect forever). */
const CLEANUP_TIMEOUT_MS = 10_000;

async function bounded(what: string, p: Promise<unknown>, timeoutMs = CLEANUP_TIMEOUT_MS, onTimeout = 'Redis did not answer, left as is'): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const r = await Promise.race([p.then(() => 'done', (err: Error) => err), timeout]);
  clearTimeout(timer);
  if (r === 'timeout') logger().warn({ timeoutMs }, `${what}: ${onTimeout}`);
  else if (r instanceof Error) logger().warn({ reason: r.message }, `${what} failed`);
}

/**
 * Every key of a queue this run created for itself: BullMQ's obliterate() leaves the run's own
 * bookkeeping (`:runs`, `:run:<id>`, `:fp-config`, `:fp:<job>`), which would stay forever.
 */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

async function removeQueueKeys(client: RedisClient, prefix: string, queues: string[]): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    for (const q of queues) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}:${globEscape(q)}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await Promise.all(keys.map((k) => node.unlink(k)));
      } while (cursor !== '0');
    }
  }
}

export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const log = logger();
  const started = performance.now();
  // Before Redis and the model: a wrong path or a binary file must not cost a model load and hash.
  checkInput(opts.input);
  const redis = await ensureRedis(opts.redisUrl);
  try {
    // Before any BullMQ connection: those retry forever and print every failure.
    if (redis.source !== 'private') await waitForRedis(redis.url, opts.worker.redisWaitMs);
  } catch (err) {
    await redis.stop();
    throw err;
  }
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
  let expected: number | undefined;
  exporter.onRecord = (rec: ResultRecord) => {
    if (rec.status === 'ok') latencies.push(rec.timings.endToEndMs);
    else failuresByCode[rec.code] = (failuresByCode[rec.code] ?? 0) + 1;
    opts.onProgress?.(exporter.exported, expected);
  };
  const connection = bullConnection(redis.url);
  const mainQueue = new Queue(queue, { connection, ...queueOptions(opts.worker.prefix) });
  // Without a listener BullMQ console.error()s every reconnect attempt with its stack.
  mainQueue.on('error', (err) => log.warn({ queue, reason: err.message }, 'queue connection error (reconnecting)'));
  const client = connect(redis.url);
  client.on('error', () => {});
  let active: ActiveRunEntry | undefined;
  try {
    await client.connect();
    // So that `status` without --queue shows this run while it lasts.
    active = await ActiveRunEntry.start(client, opts.worker.prefix, queue, runId);
    // Workers first: loading the model takes seconds, documents wait in Redis meanwhile.
    for (let i = 0; i < opts.workers; i++) {
      const w = new RobertaWorker({ ...opts.worker, redisUrl: redis.url, queue, workerId: `${runId}-w${i}`, metricsPort: i === 0 ? opts.worker.metricsPort : 0 }, { log });
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
    // Exact only when every read document was enqueued now (no duplicates, no skipped unchanged ones).
    if (!enqueue.alreadyQueued && !enqueue.skippedUnchanged) expected = enqueue.enqueued;
    await exporter.start();
    // Done when nothing is left to process and every published result has been exported.
    let idleChecks = 0;
    while (idleChecks < 2) {
      if (opts.signal?.aborted) {
        throw E.SHUTDOWN(`run ${runId} interrupted: ${exporter.exported} documents exported to ${opts.out}`, {
          hint: opts.queue ? 'run the same command again to finish (the queue is kept)' : 'run it again with --queue NAME to be able to resume an interrupted run',
        });
      }
      await sleep(100);
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
    // Each worker finishes its jobs in flight for up to --shutdown-grace-ms and then closes its
    // connections (worker.ts, #abandon): only after that may the queues go. Bounded at 10 s, a
    // drain of long documents on a loaded machine was still publishing when they were removed,
    // and its late results re-created them.
    await bounded('closing the workers', Promise.allSettled(workers.map((w) => w.close())), opts.worker.shutdownGraceMs + CLEANUP_TIMEOUT_MS, 'still not closed, left as is');
    await bounded('closing the results exporter', exporter.close());
    if (!opts.keepQueues && !opts.queue) {
      const resultsQueue = resultsQueueName(queue, opts.worker.resultsQueue);
      const rq = new Queue(resultsQueue, { connection, prefix: opts.worker.prefix });
      rq.on('error', () => {});
      const client = connect(redis.url, { maxRetriesPerRequest: 3 });
      client.on('error', () => {});
      await bounded(`removing the run's queues ${queue} and ${resultsQueue} from ${redactRedisUrl(redis.url)}`, (async () => {
        await mainQueue.obliterate({ force: true });
        await rq.obliterate({ force: true });
        await client.connect();
        await removeQueueKeys(client, opts.worker.prefix, [queue, resultsQueue]);
      })());
      client.disconnect();
      await bounded('closing a queue', rq.close());
    }
    await bounded('closing a queue', mainQueue.close());
    await bounded('leaving the active-run list', active?.close() ?? Promise.resolve());
    client.disconnect();
    await redis.stop();
  }
}
