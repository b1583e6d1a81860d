/**
 * One catalogue of user-visible failures. Every error a user can see carries a stable
 * code and says what to do about it (the `hint`). Codes are part of the public contract:
 * they appear in logs, in `*.errors.jsonl` and in failed BullMQ jobs' `failedReason`.
 */
import { UnrecoverableError } from 'bullmq';

export const ERROR_CODES = {
  E_CONFIG: 'invalid configuration',
  E_INPUT_INVALID: 'a document or input line is invalid',
  E_INPUT_TOO_LARGE: 'a document or job payload is over the configured size limit',
  E_INPUT_PARSE: 'an input line could not be parsed',
  E_INPUT_DUPLICATE: 'a document repeats an id already read from the same input (only the first is scored)',
  E_INPUT_BINARY: 'the input is binary or compressed data, not text',
  E_MODEL_NOT_FOUND: 'the model file does not exist',
  E_MODEL_EMPTY: 'the model file is empty',
  E_MODEL_LFS_POINTER: 'the model file is a Git LFS pointer, not the model',
  E_MODEL_NOT_ONNX: 'the model file is not an ONNX model',
  E_MODEL_SIGNATURE: 'the model inputs are not a RoBERTa signature',
  E_MODEL_TASK_MISMATCH: 'the model outputs do not fit the requested task',
  E_MODEL_VOCAB_MISMATCH: 'the tokenizer vocabulary is larger than the model embedding table',
  E_MODEL_LOAD: 'onnxruntime could not load the model',
  E_TOKENIZER: 'the tokenizer could not be loaded',
  E_CUDA_UNAVAILABLE: 'the CUDA execution provider is not available',
  E_INFERENCE: 'the inference run failed',
  E_DOWNLOAD: 'a download failed',
  E_CHECKSUM: 'a downloaded file does not match its checksum',
  E_REDIS_UNREACHABLE: 'Redis cannot be reached',
  E_REDIS_CONFIG: 'Redis is configured in a way that loses jobs',
  E_REDIS_MISSING: 'no Redis is available and none can be started',
  E_SHUTDOWN: 'the process is shutting down',
  E_OUTPUT_SCHEMA: 'a result does not fit the output file (another task or vector size, or not a roberta-batch file)',
  E_OUTPUT_WRITE: 'an output file cannot be written',
  E_REDIS_AUTH: 'Redis refused the user or password in REDIS_URL',
  E_REDIS_OOM: 'Redis is at maxmemory and refuses writes (noeviction): the pipeline waits until memory frees',
  E_WORKER_START_LOOP: 'a supervised worker process kept failing before it was ready',
  E_PORT_IN_USE: 'the metrics port is taken by another process',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable context (file path, line number, document id...). */
  context?: Record<string, unknown>;
}

export class RobertaBatchError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RobertaBatchError';
    this.code = code;
    this.hint = details.hint;
    this.context = details.context ?? {};
  }

  /** One line for humans: `E_CODE: message (hint)`. */
  describe(): string {
    return `${this.code}: ${this.message}${this.hint ? ` — ${this.hint}` : ''}`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, ...this.context };
  }
}

/**
 * A per-document failure that retrying cannot fix (empty text, over the size limit...).
 * Extends BullMQ's UnrecoverableError so the job fails at once instead of burning attempts.
 * The code is kept in the message prefix because BullMQ stores only `failedReason` (a string).
 */
export class DocumentError extends UnrecoverableError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'DocumentError';
    this.code = code;
  }
}

export function isRobertaBatchError(err: unknown): err is RobertaBatchError {
  return err instanceof RobertaBatchError;
}

/** Reads the `E_...` code back out of a BullMQ failedReason string. */
export function codeOfReason(reason: string | undefined): ErrorCode | undefined {
  const m = /^(E_[A-Z_]+):/.exec(reason ?? '');
  return m && m[1] in ERROR_CODES ? (m[1] as ErrorCode) : undefined;
}

export function errorMessage(err: unknown): string {
  if (err instanceof RobertaBatchError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
