/**
 * The one way to write a document's failure record (`*.errors.jsonl`, docs/OUTPUT.md): by the
 * worker that failed it, and by the results exporter for a document whose job failed without
 * a record (it stalled out of its attempts).
 */
import type { ErrorCode } from './errors.js';
import type { FailedRecord, Task } from './types.js';
import { isoTimestamp } from './util.js';

/** Who produced (or would have produced) the document's result. */
export interface RecordSetup {
  model: { name: string; sha256: string };
  /** 'unknown' only where no record of the queue says which task its workers run. */
  task: Task | 'unknown';
  workerId: string;
}

/** What a job says about one of its documents (the data may be malformed: anything goes). */
export interface FailedDocument {
  id?: unknown;
  meta?: Record<string, unknown>;
}

export function failedRecord(doc: FailedDocument, setup: RecordSetup, runId: string | undefined, code: ErrorCode, reason: string): FailedRecord {
  return {
    v: 1, status: 'failed', id: String(doc.id ?? ''), runId, meta: doc.meta,
    model: { name: setup.model.name, sha256: setup.model.sha256 }, task: setup.task,
    workerId: setup.workerId, finishedAt: isoTimestamp(), code, reason,
  };
}
