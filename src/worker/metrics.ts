/**
 * prom-client metrics. Names are a public contract: dashboards (deploy/grafana), alert rules
 * and the KEDA ScaledObject read them, and a test checks those files against METRIC_NAMES.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { oomState } from '../shared/redis-oom.js';

const P = 'roberta_batch_';

// Latency buckets (s): 1 ms .. 2 min, roughly x2.5 apart; a base-model batch of 64 x 512
// tokens on 2 CPU cores takes ~30 s, a tiny-model batch ~2 ms.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 256];
const TOKEN_BUCKETS = [16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

export interface WorkerMetrics {
  registry: Registry;
  documents: Counter<'status' | 'task'>;
  tokens: Counter<'kind'>;
  batchSize: Histogram;
  batchPaddedTokens: Histogram;
  batchesSplit: Counter;
  tokenizeSeconds: Histogram;
  inferenceSeconds: Histogram;
  queueWaitSeconds: Histogram;
  endToEndSeconds: Histogram;
  queueJobs: Gauge<'queue' | 'state'>;
  modelInfo: Gauge<'model' | 'sha256' | 'task' | 'signature' | 'device'>;
  ready: Gauge;
  eventLoopDelayP99: Gauge;
  drainSeconds: Gauge<'queue'>;
  docsPerSecond: Gauge;
  stalledJobs: Counter;
  redisOomRefusals: Counter<'component'>;
  redisOom: Gauge;
  /** Stops the event-loop delay monitor. */
  stop(): void;
}

export function createWorkerMetrics(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}): WorkerMetrics {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: P });

  // Event-loop delay of the thread that talks to Redis: if it grows, BullMQ lock renewal
  // is late and jobs get reported stalled. Resolution 10 ms; reset at every scrape.
  const eld: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();

  const m: WorkerMetrics = {
    registry,
    documents: new Counter({ name: `${P}documents_total`, help: 'Documents finished, by status (ok, failed)', labelNames: ['status', 'task'], registers: [registry] }),
    tokens: new Counter({ name: `${P}tokens_total`, help: 'Tokens run through the model: useful (document tokens) and padded (computed, including padding)', labelNames: ['kind'], registers: [registry] }),
    batchSize: new Histogram({ name: `${P}batch_size`, help: 'Documents per inference batch', buckets: BATCH_BUCKETS, registers: [registry] }),
    batchPaddedTokens: new Histogram({ name: `${P}batch_padded_tokens`, help: 'Padded tokens (batch x longest sequence) per inference batch', buckets: TOKEN_BUCKETS, registers: [registry] }),
    batchesSplit: new Counter({ name: `${P}batches_split_total`, help: 'Batches whose run failed and were split in halves to isolate a poison document', registers: [registry] }),
    tokenizeSeconds: new Histogram({ name: `${P}tokenize_seconds`, help: 'Tokenization time per group of documents', buckets: LATENCY_BUCKETS, registers: [registry] }),
    inferenceSeconds: new Histogram({ name: `${P}inference_seconds`, help: 'Session run time per batch', buckets: LATENCY_BUCKETS, registers: [registry] }),
    queueWaitSeconds: new Histogram({ name: `${P}queue_wait_seconds`, help: 'Time from enqueue until a worker picked the job up', buckets: LATENCY_BUCKETS, registers: [registry] }),
    endToEndSeconds: new Histogram({ name: `${P}end_to_end_seconds`, help: 'Time from enqueue until the result was published', buckets: LATENCY_BUCKETS, registers: [registry] }),
    queueJobs: new Gauge({ name: `${P}queue_jobs`, help: 'Jobs in the queue by state (refreshed at each scrape)', labelNames: ['queue', 'state'], registers: [registry] }),
    modelInfo: new Gauge({ name: `${P}model_info`, help: 'The model this worker serves (value 1)', labelNames: ['model', 'sha256', 'task', 'signature', 'device'], registers: [registry] }),
    ready: new Gauge({ name: `${P}ready`, help: '1 when the model is loaded and Redis connected', registers: [registry] }),
    eventLoopDelayP99: new Gauge({
      name: `${P}event_loop_delay_p99_seconds`,
      help: 'p99 event-loop delay of the main (Redis) thread since the last scrape',
      registers: [registry],
      collect() {
        this.set(eld.percentile(99) / 1e9);
        eld.reset();
      },
    }),
    drainSeconds: new Gauge({ name: `${P}drain_seconds`, help: 'Estimated seconds for this worker to drain the waiting documents at its rate over the last 15 s (KEDA scales on it)', labelNames: ['queue'], registers: [registry] }),
    docsPerSecond: new Gauge({ name: `${P}documents_per_second`, help: 'Documents per second finished by this worker over the last 15 s (or since it started, if later)', registers: [registry] }),
    stalledJobs: new Counter({ name: `${P}stalled_jobs_total`, help: 'Jobs this worker saw reported stalled (lock expired)', registers: [registry] }),
    redisOomRefusals: new Counter({
      name: `${P}redis_oom_refusals_total`,
      help: 'Writes Redis refused with OOM (used memory at maxmemory), by component; each is retried, nothing is lost',
      labelNames: ['component'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [component, n] of oomState.counts) this.inc({ component }, n);
      },
    }),
    redisOom: new Gauge({
      name: `${P}redis_oom`,
      help: '1 while Redis refuses this process\'s writes with OOM (waiting for memory to free), else 0',
      registers: [registry],
      collect() {
        this.set(oomState.active.size ? 1 : 0);
      },
    }),
    stop: () => eld.disable(),
  };
  return m;
}

/** Every metric name the code registers (without default process metrics). */
export function metricNames(): string[] {
  const m = createWorkerMetrics({ defaultMetrics: false });
  m.stop();
  return m.registry.getMetricsAsArray().map((x) => x.name);
}
