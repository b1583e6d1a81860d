/**
 * A roberta-batch worker: BullMQ jobs in, one result record per document out.
 *
 * Main thread: BullMQ (fetching, lock renewal), validation, tokenization, the dynamic
 * batcher, publishing, metrics. Inference thread: the onnxruntime session. Start-up checks
 * everything that can be wrong with the model, tokenizer and Redis before taking any job.
 */
import { EventEmitter } from 'node:events';
import { Worker as BullWorker, Queue, type ConnectionOptions, type Job } from 'bullmq';
import type { RedisClient } from '../shared/redis.js';
import { E, DocumentError, errorMessage, type ErrorCode } from '../shared/errors.js';
import { toJobError } from './job-error.js';
import { failedRecord } from '../shared/failed-record.js';
import { startMetricsServer, type MetricsServer } from '../shared/http-server.js';
import type { Logger } from '../shared/logger.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { queueOptions, resultsQueueName } from '../shared/queues.js';
import { redactRedisUrl } from '../shared/redis-url.js';
import { checkEvictionPolicy, waitForRedis } from '../shared/redis-checks.js';
import { setupFingerprint, setupKey, textFingerprint } from '../shared/fingerprints.js';
import { failedMarker, okMarker, type MarkerWrite } from '../shared/done-markers.js';
import { isOomError, oomState, OomReporter, retryOnOom } from '../shared/redis-oom.js';
import { Bookkeeper } from './bookkeeping.js';
import type { WorkerConfig } from '../shared/config.js';
import { WINDOW_FACTOR } from '../shared/flags.js';
import type { DocJobData, DocumentInput, FailedRecord, OkRecord, ResultRecord } from '../shared/types.js';
import type { InferenceBackend } from './backend.js';
import { DynamicBatcher } from './batcher.js';
import { checkModelFile, resolveModelFile } from '../model/model-file.js';
import { cpuSaturatesInt8Pairs, SAFE_INT8_WEIGHT_CODE } from '../model/int8-saturation.js';
import type { ModelInfo } from './engine.js';
import { l2normalizeRows } from './pooling.js';
import { scoreWindows, weightedMean } from './long-docs.js';
import { embeddingFromVector, labelsFor, sentimentFromLogits } from './postprocess.js';
import { ResultsPublisher } from './results-publisher.js';
import { TokenizeQueue } from './tokenize-queue.js';
import { loadWorkerTokenizer } from './model-setup.js';
import type { Encoded, RobertaTokenizer } from '../model/tokenizer.js';
import { isoTimestamp } from '../shared/util.js';
import { withDefaults, type WorkerClock, type WorkerDeps } from './worker-deps.js';
import { LOG_EVENT, type WorkerEventMap } from './worker-events.js';

/** Batches' worth of documents the window holds before a full batch may leave early (batcher.ts). */
const MIN_WINDOW_BATCHES = 16;

/**
 * Window of the measured rate behind documents_per_second and drain_seconds: 15 s holds several
 * batches even on CPU (a batch of 32 roberta-base documents takes 1-3 s on 2 cores) and is half
 * of KEDA's default 30 s polling interval, so the autoscaler never acts on a rate older than one poll.
 */
const RATE_WINDOW_MS = 15_000;

export interface JobSummary {
  ok: number;
  failed: number;
}

/**
 * Built from injected parts (worker-deps.ts: backend factory, Redis, logger, clock; production
 * defaults) and observable through typed events (worker-events.ts), in the manner of BullMQ's
 * Worker and graphile-worker's runner: a test runs one in its own process and waits on `ready`
 * or `batch`, a CLI process logs the same moments with a stable `event` field.
 */
export class RobertaWorker extends EventEmitter<WorkerEventMap> {
  readonly config: WorkerConfig;
  readonly metrics: WorkerMetrics;
  readonly log: Logger;
  #deps: Required<WorkerDeps>;
  #clock: WorkerClock;
  #bull: BullWorker<DocJobData, JobSummary> | undefined;
  #backend: InferenceBackend | undefined;
  #tokenizer: RobertaTokenizer | undefined;
  #tokenizeQueue: TokenizeQueue | undefined;
  #batcher: DynamicBatcher | undefined;
  #publisher: ResultsPublisher | undefined;
  #server: MetricsServer | undefined;
  #statsQueue: Queue | undefined;
  #labels: string[] = [];
  #modelLoaded = false;
  #redisUp = false;
  #shuttingDown = false;
  /** Set when the grace period ran out: the connections are closed on purpose (see #abandon). */
  #abandoned = false;
  #closing: Promise<boolean> | undefined;
  /** Finished documents per job completion: [time ms, documents], for the rate gauges. */
  #recentDone: [number, number][] = [];
  /** When the worker began taking jobs (ms), so a young worker's rate is not diluted by time it did not serve. */
  #servingSince = 0;
  #redis: RedisClient | undefined;
  #setupFp = '';
  #bookkeeper: Bookkeeper | undefined;
  #oom: OomReporter;

  constructor(config: WorkerConfig, deps: WorkerDeps = {}) {
    super();
    this.config = config;
    this.#deps = withDefaults(deps);
    this.#clock = this.#deps.clock;
    this.log = this.#deps.log.child({ workerId: config.workerId });
    this.metrics = createWorkerMetrics();
    this.#oom = new OomReporter('worker', this.log, () => this.#redis);
  }

  get modelInfo(): ModelInfo | undefined {
    return this.#backend?.info;
  }

  get metricsPort(): number | undefined {
    return this.#server?.port;
  }

  /** The metrics server, to mount extra routes such as the queue UI (undefined before start()). */
  get httpServer(): MetricsServer | undefined {
    return this.#server;
  }

  #setRedisUp(up: boolean): void {
    if (up !== this.#redisUp && !this.#shuttingDown) {
      if (up) this.log.info({ event: LOG_EVENT.redisBack }, 'Redis connection back: ready again');
      else this.log.warn({ event: LOG_EVENT.redisLost }, 'Redis connection lost: not ready until it is back');
    }
    this.#redisUp = up;
    this.metrics.ready.set(this.ready().ready ? 1 : 0);
  }

  ready(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.#modelLoaded) reasons.push('model not loaded');
    if (!this.#redisUp) reasons.push('redis not connected');
    if (this.#shuttingDown) reasons.push('shutting down');
    if (oomState.active.size) reasons.push('E_REDIS_OOM: Redis is at maxmemory and refuses writes (waiting for memory to free)');
    return { ready: reasons.length === 0, reasons };
  }

  /**
   * Starts serving: fails, consuming no job, if the model, tokenizer or Redis is unusable.
   * The steps run in this order so that every check that can refuse to start (Redis reachable
   * and not evicting, model file, tokenizer, task and labels) comes before any job is fetched;
   * close() undoes them in reverse.
   */
  async start(): Promise<void> {
    await this.#startHttp();
    await this.#checkRedis();
    const { info, maxLength } = await this.#loadModel();
    this.#batcher = this.#createBatcher(info);
    await this.#connectRedis();
    this.#storeSetupFingerprint(info, maxLength);
    const connection = this.#deps.redis.bull(this.config.redisUrl);
    this.#openQueues(connection);
    this.#bull = this.#createBullWorker(connection);
    this.#serve(info);
  }

  /** /metrics, /livez, /readyz from the first moment: a pod loading its model is alive, not ready. */
  async #startHttp(): Promise<void> {
    const c = this.config;
    // metricsPort is 0-65535 (config.ts): 0 serves on any free port, it never turns the server off.
    this.#server = await startMetricsServer({
      host: c.metricsHost,
      port: c.metricsPort,
      registry: () => this.metrics.registry.metrics(),
      contentType: this.metrics.registry.contentType,
      health: this,
      beforeScrape: () => this.#refreshQueueGauges(),
    });
    this.log.info({ event: LOG_EVENT.metricsListening, url: `http://${c.metricsHost}:${this.#server.port}/metrics` }, 'metrics server listening');
  }

  async #checkRedis(): Promise<void> {
    const c = this.config;
    await waitForRedis(c.redisUrl, c.redisWaitMs);
    await checkEvictionPolicy(c.redisUrl, c.allowEviction);
    this.#redisUp = true;
  }

  /** Model file, tokenizer and backend, refused before any job when they do not fit the task. */
  async #loadModel(): Promise<{ info: ModelInfo; maxLength: number }> {
    const c = this.config;
    const modelFile = await resolveModelFile(c.model);
    await checkModelFile(modelFile);
    const { tokenizer, shape } = await loadWorkerTokenizer(modelFile, c);
    const maxLength = shape.maxLength;
    this.#tokenizer = tokenizer;

    this.log.info({ model: modelFile, device: c.device, maxLength }, 'loading model');
    this.#backend = await this.#deps.backend(modelFile, {
      device: c.device,
      graphOptimization: c.graphOptimization,
      intraOpThreads: c.intraOpThreads,
      interOpThreads: c.interOpThreads,
      spinning: c.ortSpinning === undefined ? undefined : c.ortSpinning === 'on',
      outputKind: c.outputKind,
      skipHash: c.skipHash,
    });
    const info = this.#backend.info;
    const wanted = c.task === 'sentiment' ? 'classification' : 'base';
    if (info.signature.outputKind !== wanted) {
      await this.#backend.close();
      throw E.MODEL_TASK_MISMATCH(`${info.path} is a ${info.signature.outputKind} model, but --task ${c.task} needs a ${wanted} model`, {
        hint: c.task === 'sentiment' ? 'use roberta-sequence-classification-9 (or any [batch, labels] model) for sentiment' : 'use roberta-base-11 (or any [batch, seq, hidden] model) for embed',
      });
    }
    if (c.device.kind === 'auto' && info.device === 'cpu') this.log.warn({ device: c.device }, 'CUDA unavailable, --device auto fell back to CPU');
    const maxCode = shape.int8WeightMaxCode;
    if (maxCode !== undefined && maxCode > SAFE_INT8_WEIGHT_CODE && info.device === 'cpu' && cpuSaturatesInt8Pairs()) {
      this.log.warn({ event: LOG_EVENT.int8Saturation, model: modelFile, maxWeightCode: maxCode },
        `int8 weights over ±${SAFE_INT8_WEIGHT_CODE} on a CPU without VNNI: onnxruntime's int8 kernels saturate here and the results drift without any error; ` +
        're-quantize the float32 model with `roberta-batch models quantize --int8` (7-bit weights), or run the float32 model');
    }
    const numLabels = info.signature.numLabels;
    if (c.task === 'sentiment' && c.labels?.length && numLabels !== undefined && c.labels.length !== numLabels) {
      await this.#backend.close();
      // A wrong count would print a report over classes the model does not have, or label every document with a name meant for another logit.
      throw E.CONFIG(`--labels names ${c.labels.length} labels (${c.labels.join(', ')}), but ${info.path} has ${numLabels} outputs`, {
        hint: `give exactly ${numLabels} comma-separated names, in logit order`,
      });
    }
    this.#labels = labelsFor(numLabels ?? 2, c.labels);
    this.metrics.modelInfo.set({ model: info.name, sha256: info.sha256, task: c.task, signature: info.signature.kind, device: info.device }, 1);
    this.log.info({ model: info.name, sha256: info.sha256, signature: info.signature.kind, outputKind: info.signature.outputKind, device: info.device }, 'model loaded');
    this.#tokenizeQueue = new TokenizeQueue(tokenizer, (s) => this.metrics.tokenizeSeconds.observe(s));
    return { info, maxLength };
  }

  #createBatcher(info: ModelInfo): DynamicBatcher {
    const c = this.config;
    return new DynamicBatcher(
      this.#backend!,
      {
        maxBatchSize: c.maxBatchSize,
        maxBatchTokens: c.maxBatchTokens,
        maxWaitMs: c.maxWaitMs,
        padId: this.#tokenizer!.padId,
        // zoo signature: no attention mask, a padded row would change its result.
        equalLengthOnly: info.signature.kind === 'zoo',
        // 16 batches' worth (3.6 % padding in a simulation of the bench's 1,000 documents,
        // against 9.7 % with none and 3.1 % for the whole set sorted), never more documents
        // than the held jobs can bring (each holds at least one).
        minWindowForFull: Math.min(MIN_WINDOW_BATCHES * c.maxBatchSize, c.concurrency || WINDOW_FACTOR * c.maxBatchSize),
        pooling: c.pooling,
        // L2 normalisation happens after window aggregation (long-docs.ts), not per window.
        normalize: false,
      },
      {
        onBatch: (s) => {
          this.metrics.batchSize.observe(s.rows);
          this.metrics.batchPaddedTokens.observe(s.paddedTokens);
          this.metrics.inferenceSeconds.observe(s.runMs / 1000);
          this.metrics.tokens.inc({ kind: 'useful' }, s.usefulTokens);
          this.metrics.tokens.inc({ kind: 'padded' }, s.paddedTokens);
          this.log.debug({ event: LOG_EVENT.batch, batchId: s.batchId, rows: s.rows, seq: s.seq, runMs: Math.round(s.runMs) }, 'batch done');
          this.emit('batch', s);
        },
        onSplit: (rows, err) => {
          this.metrics.batchesSplit.inc();
          this.log.warn({ event: LOG_EVENT.batchSplit, rows, reason: errorMessage(err) }, 'batch run failed: splitting it to isolate the failing document');
        },
      },
    );
  }

  async #connectRedis(): Promise<void> {
    const redis = this.#deps.redis.client(this.config.redisUrl);
    this.#redis = redis;
    redis.on('error', () => {});
    // Readiness follows this connection both ways: ioredis reconnects by itself after a Redis
    // restart and emits 'ready' each time, so a blip takes the pod out of service only while it lasts.
    redis.on('close', () => this.#setRedisUp(false));
    redis.on('ready', () => this.#setRedisUp(true));
    await redis.connect();
    this.#bookkeeper = new Bookkeeper(redis, this.config.prefix, this.config.queue, this.log, this.#oom);
  }

  #storeSetupFingerprint(info: ModelInfo, maxLength: number): void {
    const c = this.config;
    const redis = this.#redis!;
    this.#setupFp = setupFingerprint({
      modelSha256: info.sha256, task: c.task, pooling: c.pooling, normalize: c.normalize,
      longDocs: c.longDocs, maxLength, chunkOverlap: c.chunkOverlap,
    });
    // In the background: a full Redis refuses the SET until memory frees (E_REDIS_OOM), and the
    // worker must start anyway (it is what drains the queue).
    void retryOnOom(this.#oom, 'storing the setup fingerprint', () => redis.getset(setupKey(c.prefix, c.queue), this.#setupFp)).then((previous) => {
      if (previous && previous !== this.#setupFp) {
        this.log.warn({ previous, current: this.#setupFp }, 'the model setup of this queue changed (other model, task or pooling): --skip-unchanged will recompute every document');
      }
    }, (err) => this.log.warn({ reason: errorMessage(err) }, 'could not store the setup fingerprint'));
  }

  /** The results queue (publishing) and the document queue (gauges for /metrics). */
  #openQueues(connection: ConnectionOptions): void {
    const c = this.config;
    this.#publisher = new ResultsPublisher(resultsQueueName(c.queue, c.resultsQueue), connection, c.prefix, { markers: { client: this.#redis!, queue: c.queue }, oom: this.#oom, log: this.log });
    this.#statsQueue = new Queue(c.queue, { connection, ...queueOptions(c.prefix) });
    // Without a listener BullMQ console.error()s every reconnect attempt with a stack trace
    // (3-4 per second while Redis restarts); the connections reconnect by themselves.
    for (const q of [this.#publisher.queue, this.#statsQueue]) {
      q.on('error', (err) => {
        if (!this.#abandoned) this.log.warn({ queue: q.name, reason: err.message }, 'queue connection error (reconnecting)');
      });
    }
  }

  #createBullWorker(connection: ConnectionOptions): BullWorker<DocJobData, JobSummary> {
    const c = this.config;
    const bull = new BullWorker<DocJobData, JobSummary>(c.queue, (job) => this.#process(job).catch((err: unknown) => { throw toJobError(err); }), {
      connection,
      prefix: c.prefix,
      // Stored on each job it takes (job.processedBy): the queue UI and chaos see who holds it.
      name: c.workerId,
      autorun: false,
      concurrency: c.concurrency || WINDOW_FACTOR * c.maxBatchSize,
      lockDuration: c.lockDurationMs,
      stalledInterval: c.stalledIntervalMs,
      maxStalledCount: c.maxStalledCount,
      // A failed fetch (a full Redis refusing it, E_REDIS_OOM) is retried after this, not 15 s.
      runRetryDelay: 1_000,
    });
    bull.on('error', (err) => {
      if (this.#abandoned) return;
      // A full Redis refuses BullMQ's own writes too (fetching, completing, lock renewal): BullMQ
      // retries them; say why, once per 30 s, instead of one anonymous line per attempt.
      if (isOomError(err)) {
        void this.#oom.refused('BullMQ fetch/complete/lock renewal');
        return;
      }
      this.log.warn({ reason: err.message }, 'BullMQ worker error (reconnecting)');
    });
    // Taking a job is a write: once one is taken (or there is none to take), Redis is not refusing us.
    bull.on('active', () => this.#oom.accepted());
    bull.on('drained', () => this.#oom.accepted());
    bull.on('stalled', (jobId) => {
      this.metrics.stalledJobs.inc();
      this.log.warn({ event: LOG_EVENT.stalled, jobId }, 'job stalled (its lock expired); BullMQ moved it back to wait');
      this.emit('stalled', jobId);
    });
    return bull;
  }

  /** Ready: fetch jobs from now on. */
  #serve(info: ModelInfo): void {
    const c = this.config;
    this.#modelLoaded = true;
    this.#servingSince = this.#clock.now();
    this.#setRedisUp(this.#redis!.status === 'ready');
    void this.#bull!.run().catch((err) => {
      this.log.error({ event: LOG_EVENT.failed, reason: errorMessage(err) }, 'worker loop ended');
      this.emit('failed', err);
    });
    this.log.info({ event: LOG_EVENT.ready, queue: c.queue, redis: redactRedisUrl(c.redisUrl), maxBatchSize: c.maxBatchSize, maxBatchTokens: c.maxBatchTokens, maxWaitMs: c.maxWaitMs }, 'worker ready');
    this.emit('ready', { queue: c.queue, model: info, metricsPort: this.#server!.port });
  }

  async #process(job: Job<DocJobData, JobSummary>): Promise<JobSummary> {
    const pickedAt = this.#clock.now();
    this.metrics.queueWaitSeconds.observe(Math.max(0, pickedAt - job.timestamp) / 1000);
    const data = job.data as Partial<DocJobData> | undefined;
    if (!data || !Array.isArray(data.docs) || data.docs.length === 0) {
      throw E.document('E_INPUT_INVALID', 'job data has no "docs" array (was it enqueued by roberta-batch?)');
    }
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    let records: ResultRecord[];
    try {
      records = await this.#processDocs(data.docs, job, data.runId);
    } catch (err) {
      // Not the document's fault (inference thread died, shutdown...): BullMQ retries the job.
      // On the last attempt the failure is recorded so that every document ends with a reason.
      if (!finalAttempt) throw err;
      records = data.docs.map((doc) => this.#failed(doc, data.runId, 'E_INFERENCE', `gave up after ${job.attemptsMade + 1} attempts: ${errorMessage(err)}`));
    }
    await this.#publisher!.publish(job.id!, records, this.#markers(data as DocJobData, records));
    this.#recordBookkeeping(data as DocJobData, records);
    const end = this.#clock.now();
    let ok = 0;
    for (const r of records) if (r.status === 'ok') ok++;
    // Once per job, not per document: prom-client hashes the labels on every inc().
    if (ok) this.metrics.documents.inc({ status: 'ok', task: this.config.task }, ok);
    if (records.length > ok) this.metrics.documents.inc({ status: 'failed', task: this.config.task }, records.length - ok);
    this.#recentDone.push([end, records.length]);
    this.metrics.endToEndSeconds.observe(Math.max(0, end - job.timestamp) / 1000);
    if (records.length === 1 && records[0].status === 'failed') {
      const f = records[0];
      throw E.document(f.code as ErrorCode, f.reason);
    }
    return { ok, failed: records.length - ok };
  }

  #failed(doc: Partial<DocumentInput>, runId: string | undefined, code: ErrorCode, reason: string): FailedRecord {
    const info = this.#backend!.info;
    return failedRecord(doc, { model: { name: info.name, sha256: info.sha256 }, task: this.config.task, workerId: this.config.workerId }, runId, code, reason);
  }

  /** Checks a document; returns its text or throws DocumentError (recorded, never retried). */
  #validate(doc: DocumentInput): string {
    const t = doc.text;
    if (typeof t !== 'string') {
      throw E.document('E_INPUT_INVALID', `text is ${t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t}, expected a string`);
    }
    const bytes = Buffer.byteLength(t, 'utf8');
    if (bytes > this.config.maxDocBytes) {
      throw E.document('E_INPUT_TOO_LARGE', `text is ${bytes} bytes, over --max-doc-bytes ${this.config.maxDocBytes}`);
    }
    if (t.trim().length === 0) throw E.document('E_INPUT_INVALID', t.length ? 'text is only whitespace' : 'text is empty');
    if (!t.isWellFormed()) throw E.document('E_INPUT_INVALID', 'text holds unpaired UTF-16 surrogates (not valid Unicode)');
    return t;
  }

  /**
   * A job's documents, in order, one record each. The job's texts are tokenized with one call
   * (TokenizeQueue) and its documents batched with one submission (DynamicBatcher.submitMany):
   * one promise per job, not several per document. A document's own failure (invalid input,
   * a text the tokenizer or the model rejects) is its failed record; any other error is
   * thrown, and the job is retried (#process).
   */
  async #processDocs(docs: DocumentInput[], job: Job, runId: string | undefined): Promise<ResultRecord[]> {
    const records: (ResultRecord | undefined)[] = new Array(docs.length);
    const valid: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < docs.length; i++) {
      const doc = docs[i];
      if (typeof doc?.id !== 'string' || doc.id.length === 0) {
        records[i] = this.#failed(doc ?? {}, runId, 'E_INPUT_INVALID', 'document has no id');
        continue;
      }
      try {
        texts.push(this.#validate(doc));
        valid.push(i);
      } catch (err) {
        if (!(err instanceof DocumentError)) throw err;
        records[i] = this.#failed(doc, runId, err.code, err.reason);
      }
    }
    const encs = await this.#tokenizeQueue!.encodeMany(texts);
    const batched: number[] = [];
    const batchedEncs: Encoded[] = [];
    const long: Promise<void>[] = [];
    for (let k = 0; k < valid.length; k++) {
      const i = valid[k];
      const enc = encs[k];
      if (enc instanceof DocumentError) records[i] = this.#failed(docs[i], runId, enc.code, enc.reason);
      else if (enc.truncated && this.config.longDocs === 'chunk') {
        long.push(this.#scoreLong(docs[i], texts[k], job, runId).then((r) => { records[i] = r; }));
      } else {
        batched.push(i);
        batchedEncs.push(enc);
      }
    }
    const [outs] = await Promise.all([this.#batcher!.submitMany(batchedEncs.map((e) => e.ids)), ...long]);
    const finishedAt = isoTimestamp();
    const endToEndMs = this.#clock.now() - job.timestamp;
    for (let k = 0; k < batched.length; k++) {
      const i = batched[k];
      const out = outs[k];
      const enc = batchedEncs[k];
      records[i] = out instanceof DocumentError
        ? this.#failed(docs[i], runId, out.code, out.reason)
        : this.#okRecord(docs[i], runId, out.vector, {
          tokenCount: enc.tokenCount, truncated: enc.truncated, windows: 1, batchSize: out.batchSize,
          waitMs: out.waitMs, runMs: out.runMs, finishedAt, endToEndMs,
        });
    }
    return records as ResultRecord[];
  }

  /** A document over the model's maximum with --long-docs chunk: its windows, weighted (long-docs.ts). */
  async #scoreLong(doc: DocumentInput, text: string, job: Job, runId: string | undefined): Promise<ResultRecord> {
    try {
      const tok = this.#tokenizer!;
      const plan = await scoreWindows(tok.encodeSegments(text), { maxLength: tok.maxLength, overlap: this.config.chunkOverlap, bosId: tok.bosId, eosId: tok.eosId }, (w) => this.#batcher!.submit(w));
      const outs = plan.outs;
      return this.#okRecord(doc, runId, weightedMean(outs.map((o) => o.vector), plan.weights), {
        // Exact: chunking tokenizes the whole text anyway (else see Encoded.tokenCount).
        tokenCount: plan.contentTokens + 2,
        truncated: true,
        windows: outs.length,
        batchSize: Math.max(...outs.map((o) => o.batchSize)),
        waitMs: Math.max(...outs.map((o) => o.waitMs)),
        runMs: outs.reduce((a, o) => a + o.runMs, 0),
        finishedAt: isoTimestamp(),
        endToEndMs: this.#clock.now() - job.timestamp,
      });
    } catch (err) {
      if (err instanceof DocumentError) return this.#failed(doc, runId, err.code, err.reason);
      throw err;
    }
  }

  #okRecord(doc: DocumentInput, runId: string | undefined, vector: Float32Array, r: {
    tokenCount: number; truncated: boolean; windows: number; batchSize: number;
    waitMs: number; runMs: number; finishedAt: string; endToEndMs: number;
  }): OkRecord {
    const info = this.#backend!.info;
    const rec: OkRecord = {
      v: 1, status: 'ok', id: doc.id, runId, meta: doc.meta,
      model: { name: info.name, sha256: info.sha256 }, task: this.config.task,
      workerId: this.config.workerId, finishedAt: r.finishedAt,
      tokenCount: r.tokenCount, truncated: r.truncated && r.windows === 1, windows: r.windows, batchSize: r.batchSize,
      timings: { endToEndMs: r.endToEndMs, batchWaitMs: Math.round(r.waitMs), inferenceMs: Math.round(r.runMs) },
    };
    if (this.config.task === 'sentiment') rec.sentiment = sentimentFromLogits(vector, this.#labels);
    else {
      if (this.config.normalize) l2normalizeRows(vector, 1, vector.length);
      rec.embedding = embeddingFromVector(vector, this.config.pooling, this.config.normalize);
    }
    return rec;
  }

  /**
   * One marker per document with an id: the setup and text fingerprints of a result (what
   * `--skip-unchanged` compares), or the failure's code. Written with the results, before the
   * job completes and BullMQ removes it (done-markers.ts).
   */
  #markers(data: DocJobData, records: ResultRecord[]): MarkerWrite[] {
    const keepDays = data.keepDoneDays || undefined;
    const out: MarkerWrite[] = [];
    for (const [i, r] of records.entries()) {
      if (!r.id) continue;
      const text = data.docs[i]?.text;
      const value = r.status === 'ok' && typeof text === 'string' ? okMarker(this.#setupFp, textFingerprint(text)) : failedMarker(r.status === 'failed' ? r.code : 'E_INFERENCE');
      out.push({ docId: r.id, value, keepDays });
    }
    return out;
  }

  /** Per-run counters for `status`, written in the background (bookkeeping.ts). */
  #recordBookkeeping(data: DocJobData, records: ResultRecord[]): void {
    const ok = records.filter((r) => r.status === 'ok').length;
    this.#bookkeeper!.record(data.runId, ok, records.length - ok);
  }

  async #refreshQueueGauges(): Promise<void> {
    // Redis down: the queue commands would wait in ioredis' offline queue, and /metrics with them,
    // until Redis is back; the gauges keep their last values and roberta_batch_ready says why.
    if (!this.#statsQueue || !this.#redisUp) return;
    const counts = await this.#statsQueue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    for (const [state, n] of Object.entries(counts)) this.metrics.queueJobs.set({ queue: this.config.queue, state }, n);
    const now = this.#clock.now();
    this.#recentDone = this.#recentDone.filter(([t]) => now - t <= RATE_WINDOW_MS);
    // Over the time actually served within the window: a worker that started 3 s ago and did
    // 30 documents runs at 10 docs/s, not 0.5 (30 over a full window).
    const spanMs = Math.min(RATE_WINDOW_MS, Math.max(1_000, now - this.#servingSince));
    const rate = this.#recentDone.reduce((a, [, n]) => a + n, 0) / (spanMs / 1000);
    this.metrics.docsPerSecond.set(rate);
    const backlog = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    // No measured rate yet: report the backlog itself so an autoscaler still sees work.
    this.metrics.drainSeconds.set({ queue: this.config.queue }, rate > 0 ? backlog / rate : backlog);
  }

  /**
   * Graceful shutdown, idempotent: readiness off, stop fetching, finish the jobs in flight
   * (their batches run to the end and their results are published), then release the model,
   * Redis and HTTP. Resolves `true` when clean; `false` when jobs were still unfinished after
   * `shutdownGraceMs`: those are left to BullMQ's stalled-job recovery (their locks expire and
   * another worker takes them) and the caller must end the process (see cli/signals.ts).
   */
  close(): Promise<boolean> {
    this.#closing ??= (async () => {
      this.#shuttingDown = true;
      this.metrics.ready.set(0);
      this.log.info({ event: LOG_EVENT.closing, graceMs: this.config.shutdownGraceMs }, 'shutting down: finishing jobs in flight');
      this.emit('closing');
      const drained = await this.#drain();
      const timedOut = drained !== 'done';
      if (timedOut) await this.#abandon();
      await this.#release();
      if (drained === 'timeout') {
        // The inference thread is still inside session.run: it cannot be stopped from here.
        this.log.warn({ event: LOG_EVENT.graceExpired }, 'grace period over: jobs still in flight will be recovered by another worker');
      } else if (drained === 'done') {
        await this.#backend?.close().catch(() => {});
        this.log.info({ event: LOG_EVENT.closed }, 'worker stopped');
      }
      this.emit('closed', !timedOut);
      return !timedOut;
    })();
    return this.#closing;
  }

  /**
   * Stops fetching and finishes the jobs in flight: `timeout` when the grace period ran out
   * first, `failed` when finishing them failed (logged here; a failure after the timeout, on
   * the connections #abandon closed, is expected and not logged).
   */
  async #drain(): Promise<'done' | 'timeout' | 'failed'> {
    const drain = (async () => {
      await this.#bull?.close();
      await this.#batcher?.close();
      await this.#publisher?.close();
    })();
    return Promise.race([
      drain.then(() => 'done' as const, (err: unknown) => {
        if (!this.#abandoned) this.log.warn({ reason: errorMessage(err) }, 'shutting down: finishing the jobs in flight failed; they will be recovered by another worker');
        return 'failed' as const;
      }),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.config.shutdownGraceMs).unref()),
    ]);
  }

  /**
   * Once the grace period is over nothing of this worker reaches Redis any more. The batch still
   * inside onnxruntime cannot be stopped; when it ends, publishing its results and completing
   * its jobs fail on closed connections instead of writing: the jobs stay active until their
   * locks expire and another worker takes them, and a caller that removes the queue next (`run`
   * on its own queue) does not find it re-created by a late result. (The markers and the run
   * bookkeeping use the worker's own client, which #release closes.)
   */
  async #abandon(): Promise<void> {
    this.#abandoned = true;
    await Promise.allSettled([this.#bull?.disconnect(), this.#publisher?.queue.disconnect()]);
  }

  /** Queues, Redis, HTTP and metrics, in reverse order of start(). */
  async #release(): Promise<void> {
    await this.#statsQueue?.close().catch(() => {});
    await this.#bookkeeper?.close();
    this.#redis?.disconnect();
    await this.#server?.close();
    this.metrics.stop();
  }
}
