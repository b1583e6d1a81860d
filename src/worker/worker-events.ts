/**
 * What a RobertaWorker tells its owner, in process (typed events) and to machines reading its
 * log (the stable `event` field of the matching log line). Tests, chaos and the benchmarks
 * wait on these, never on a message text: messages are for people and may be reworded.
 */
import type { BatchStats } from './batcher.js';
import type { ModelInfo } from './engine.js';

export interface WorkerReady {
  queue: string;
  model: ModelInfo;
  /** Port of the metrics and health server (0 in the config asks for any free one). */
  metricsPort: number;
}

/** Listener arguments per event, the form Node's typed EventEmitter takes. */
export interface WorkerEventMap {
  /** Model loaded, Redis checked, fetching jobs. */
  ready: [ready: WorkerReady];
  /** A batch ran on the backend. */
  batch: [stats: BatchStats];
  /** BullMQ found a job whose lock expired and moved it back to wait. */
  stalled: [jobId: string];
  /** BullMQ's fetch loop ended with an error (the worker takes no more jobs). */
  failed: [err: unknown];
  /** close() began: readiness is off, no more jobs are fetched. */
  closing: [];
  /** close() ended; `clean` is false when jobs were still in flight at the grace deadline. */
  closed: [clean: boolean];
}

/** The `event` field of the log line written with each event (and a few more). */
export const LOG_EVENT = {
  ready: 'worker.ready',
  batch: 'worker.batch',
  batchSplit: 'worker.batch-split',
  stalled: 'worker.stalled',
  failed: 'worker.failed',
  closing: 'worker.closing',
  graceExpired: 'worker.grace-expired',
  closed: 'worker.closed',
  metricsListening: 'worker.metrics-listening',
  redisLost: 'worker.redis-lost',
  redisBack: 'worker.redis-back',
  int8Saturation: 'worker.int8-saturation',
} as const;

export type LogEvent = (typeof LOG_EVENT)[keyof typeof LOG_EVENT];

export type LogRecord = Record<string, unknown> & { event?: string };

/** One JSON log line as a record, or undefined for anything else (pretty output, a cut line). */
export function parseLogLine(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const rec: unknown = JSON.parse(line);
    return rec !== null && typeof rec === 'object' ? (rec as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}
