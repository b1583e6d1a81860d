/**
 * The wire formats: what producers put in Redis and what workers put in the results queue.
 * Changing them is a breaking change for running deployments: bump `v` and accept both.
 */

export type Task = 'sentiment' | 'embed';
export type Pooling = 'cls' | 'mean' | 'pooler';

/** One document as the producer reads it. `text` is unknown until a worker validates it. */
export interface DocumentInput {
  id: string;
  text: unknown;
  meta?: Record<string, unknown>;
}

/**
 * A BullMQ job's data: one document (job id = document id) or a pack of N (`--docs-per-job N`;
 * `enqueue` and `run` of a file pack 64 by default, the library default is 1). A re-enqueue is
 * a no-op either way: the job, or the finished document's marker, is found first.
 */
export interface DocJobData {
  v: 1;
  runId?: string;
  docs: DocumentInput[];
  /** Set by producers of old versions (ignored: every finished document leaves a marker). */
  fingerprint?: { ttlSeconds: number };
  /** `--keep-done-days`: the documents' markers expire after this many days (0 or absent: kept). */
  keepDoneDays?: number;
}

export interface SentimentOutput {
  label: string;
  score: number;
  logits: number[];
}

export interface EmbeddingOutput {
  embedding: number[];
  pooling: Pooling;
  normalized: boolean;
}

export interface ResultTimings {
  /**
   * ms from enqueue (job timestamp) to result: to the moment the last document of its job was
   * scored, since a job's records are published together (the same for every document of a
   * packed job, except one scored in windows with --long-docs chunk).
   */
  endToEndMs: number;
  /** ms the document waited in the batcher before its batch started. */
  batchWaitMs: number;
  /** ms of the session run of its batch. */
  inferenceMs: number;
}

interface RecordBase {
  v: 1;
  id: string;
  runId?: string;
  meta?: Record<string, unknown>;
  model: { name: string; sha256: string };
  workerId: string;
  /** ISO 8601 time the record was made; for the scored documents of a job, once for all of them (see endToEndMs). */
  finishedAt: string;
}

export interface OkRecord extends RecordBase {
  status: 'ok';
  task: Task;
  tokenCount: number;
  truncated: boolean;
  /** Number of windows a long document was split into (1 unless --long-docs chunk). */
  windows: number;
  batchSize: number;
  timings: ResultTimings;
  sentiment?: SentimentOutput;
  embedding?: EmbeddingOutput;
}

export interface FailedRecord extends RecordBase {
  status: 'failed';
  /** 'unknown' (with model "unknown") only when the exporter records a job no result of the queue describes. */
  task: Task | 'unknown';
  code: string;
  reason: string;
}

/** One document's result or failure. */
export type ResultRecord = OkRecord | FailedRecord;

/**
 * The data of one result job: the records of one document job, in the job's document order
 * (one record per document). Job id = the document job's id, job name `results`. Version 3
 * (what workers write) keeps the fields every record of the job shares once, in `shared`;
 * version 2 holds full records; version 1 result jobs (one per document) held a ResultRecord
 * itself as their data. Read any of them with `recordsOf()` (result-job.ts).
 */
export type ResultJobData = ResultJobDataV2 | ResultJobDataV3;

export interface ResultJobDataV2 {
  v: 2;
  /** The document job these records come from (= this result job's id). */
  jobId: string;
  records: ResultRecord[];
}

/** The fields of a record that every record of one result job shares. */
export type SharedRecordFields = Pick<RecordBase, 'v' | 'runId' | 'model' | 'workerId'> & { task: ResultRecord['task'] };

/** A record without its shared fields. */
export type LeanRecord = Omit<OkRecord, keyof SharedRecordFields> | Omit<FailedRecord, keyof SharedRecordFields>;

export interface ResultJobDataV3 {
  v: 3;
  jobId: string;
  shared: SharedRecordFields;
  records: LeanRecord[];
}
