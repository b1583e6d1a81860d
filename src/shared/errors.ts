/**
 * One catalogue of user-visible failures (in the manner of fastify's lib/errors.js). Every
 * error a user can see carries a stable code, says what to do about it (the `hint`), whether
 * trying again can help (`retryable`) and the exit code of a command that ends on it. Codes are
 * part of the public contract: they appear in logs, in `*.errors.jsonl` and in failed BullMQ
 * jobs' `failedReason`; docs/ERRORS.md lists them.
 *
 * Call sites use the factories: `E.MODEL_LOAD(file, cause)`, `E.CONFIG(message, { hint })`.
 */

interface CatalogueEntry {
  /** What the code means, in one line (docs/ERRORS.md says the same). */
  summary: string;
  /** What to do; a call site may give a more precise one. */
  hint: string;
  /** Whether the same work can succeed when tried again (Redis back, thread restarted...). */
  retryable: boolean;
  /** Exit code of a command that ends on this error: 2 = invalid configuration, 1 = the rest. */
  exitCode: 1 | 2;
}

const entry = (summary: string, hint: string, retryable = false, exitCode: 1 | 2 = 1): CatalogueEntry => ({ summary, hint, retryable, exitCode });

export const CATALOGUE = {
  E_CONFIG: entry('invalid configuration', 'fix the flag or environment variable named in the message (`--help` lists the allowed values)', false, 2),
  E_INPUT_INVALID: entry('a document or input line is invalid', 'give every document a non-empty string id and a non-empty, well-formed text'),
  E_INPUT_TOO_LARGE: entry('a document or job payload is over the configured size limit', 'split the document, or raise --max-doc-bytes'),
  E_INPUT_PARSE: entry('an input line could not be parsed', 'check the line named in the message, or pass --format'),
  E_INPUT_DUPLICATE: entry('a document repeats an id already read from the same input (only the first is scored)', 'give every document its own id'),
  E_INPUT_BINARY: entry('the input is binary or compressed data, not text', 'decompress it first (.gz is read as is), or pass the right file'),
  E_MODEL_NOT_FOUND: entry('the model file does not exist', 'fetch one with `roberta-batch models fetch <name>` or generate a test model with `roberta-batch models generate`'),
  E_MODEL_EMPTY: entry('the model file is empty', 'a download was interrupted: delete it and run `roberta-batch models fetch <name>` again'),
  E_MODEL_LFS_POINTER: entry('the model file is a Git LFS pointer, not the model', 'run `git lfs pull` in the repository, or `roberta-batch models fetch <name>` which downloads the real file'),
  E_MODEL_NOT_ONNX: entry('the model file is not an ONNX model', 'pass a .onnx file exported from a RoBERTa model (see docs/MODELS.md)'),
  E_MODEL_SIGNATURE: entry('the model inputs are not a RoBERTa signature', 'roberta-batch runs RoBERTa-family models with input_ids [batch, seq] (and optionally attention_mask); see docs/MODELS.md'),
  E_MODEL_TASK_MISMATCH: entry('the model outputs do not fit the requested task', 'use a sequence-classification model for --task sentiment and a base model for --task embed'),
  E_MODEL_VOCAB_MISMATCH: entry('the tokenizer vocabulary is larger than the model embedding table', 'use the tokenizer the model was trained with'),
  E_MODEL_LOAD: entry('onnxruntime could not load the model', 'the file is an ONNX model onnxruntime cannot run (damaged, an unsupported operator or opset): fetch it again (`roberta-batch models fetch <name>`) or re-export it'),
  E_TOKENIZER: entry('the tokenizer could not be loaded', 'point --tokenizer at a folder with tokenizer.json, or vocab.json and merges.txt'),
  E_CUDA_UNAVAILABLE: entry('the CUDA execution provider is not available', 'install the CUDA 12 binaries of onnxruntime-node (see docs/DEPLOY.md), or use --device cpu / --device auto'),
  E_INFERENCE: entry('the inference backend failed (its thread crashed or exited); the job is retried', 'look for an out-of-memory kill or a crash of the worker above this line; the job is retried on another attempt', true),
  E_DOCUMENT_INFERENCE: entry('the model fails on this document alone (its batch-mates were scored)', 'the document is recorded as failed and not retried; check its text'),
  E_DOWNLOAD: entry('a download failed', 'check the network and the URL, then run the command again', true),
  E_CHECKSUM: entry('a downloaded file does not match its checksum', 'delete the file and fetch it again; if it keeps failing the source changed'),
  E_REDIS_UNREACHABLE: entry('Redis cannot be reached', 'check --redis-url / REDIS_URL and that Redis is running', true),
  E_REDIS_CONFIG: entry('Redis is configured in a way that loses jobs', 'set maxmemory-policy noeviction (see docs/DEPLOY.md)'),
  E_REDIS_MISSING: entry('no Redis is available and none can be started', 'install redis-server or pass --redis-url'),
  E_SHUTDOWN: entry('the process is shutting down', 'nothing to do: the work is retried by the next worker', true),
  E_OUTPUT_SCHEMA: entry('a result does not fit the output file (another task or vector size, or not a roberta-batch file)', 'write to a new output file; one file holds one task and model'),
  E_OUTPUT_WRITE: entry('an output file cannot be written', 'check that the folder exists, is writable and has space'),
  E_REDIS_AUTH: entry('Redis refused the user or password in REDIS_URL', 'check the user and password in --redis-url / REDIS_URL'),
  E_REDIS_OOM: entry('Redis is at maxmemory and refuses writes (noeviction): the pipeline waits until memory frees', 'export results (`roberta-batch results`) or raise maxmemory', true),
  E_WORKER_START_LOOP: entry('a supervised worker process kept failing before it was ready', 'run one worker by hand to see why it fails to start'),
  E_PORT_IN_USE: entry('the metrics port is taken by another process', 'pass another --metrics-port, or 0 for a free one'),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof CATALOGUE;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(CATALOGUE, code);
}

export interface ErrorDetails {
  /** Replaces the catalogue's hint with one that fits the case. */
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable context (file path, line number, document id...). */
  context?: Record<string, unknown>;
}

export class RobertaBatchError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly retryable: boolean;
  readonly exitCode: 1 | 2;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    const c: CatalogueEntry = CATALOGUE[code];
    this.name = 'RobertaBatchError';
    this.code = code;
    this.hint = details.hint ?? c.hint;
    this.retryable = c.retryable;
    this.exitCode = c.exitCode;
    this.context = details.context ?? {};
  }

  /** One line for humans: `E_CODE: message — hint`. */
  describe(): string {
    return `${this.code}: ${this.message} — ${this.hint}`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, ...this.context };
  }
}

/**
 * One document's failure, recorded as that document's result (`*.errors.jsonl`) instead of
 * failing its job: `reason` is what the record says, without the code.
 */
export class DocumentError extends RobertaBatchError {
  readonly reason: string;

  constructor(code: ErrorCode, reason: string, details: ErrorDetails = {}) {
    super(code, reason, details);
    this.name = 'DocumentError';
    this.reason = reason;
  }
}

type Factory = (message: string, details?: ErrorDetails) => RobertaBatchError;
type Short<K> = K extends `E_${infer S}` ? S : never;

const plain = Object.fromEntries(
  (Object.keys(CATALOGUE) as ErrorCode[]).map((code) => [code.slice(2), (message: string, details?: ErrorDetails) => new RobertaBatchError(code, message, details)]),
) as { [K in ErrorCode as Short<K>]: Factory };

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/** The factories, one per code (without `E_`); a few take the facts and write the message. */
export const E = {
  ...plain,
  /** onnxruntime refused a file that passed the model-file checks (model-file.ts). */
  MODEL_LOAD: (file: string, cause: unknown, details: Omit<ErrorDetails, 'cause'> = {}) =>
    new RobertaBatchError('E_MODEL_LOAD', `onnxruntime cannot load ${file}: ${firstLine(cause)}`, { ...details, cause, context: { file, ...details.context } }),
  /** The one document of a batch that still fails when it is run alone. */
  DOCUMENT_INFERENCE: (cause: unknown) =>
    new DocumentError('E_DOCUMENT_INFERENCE', `the model failed on this document alone: ${firstLine(cause)}`, { cause }),
  /** A document to record as failed (never retried) with the given code. */
  document: (code: ErrorCode, reason: string) => new DocumentError(code, reason),
};

/**
 * BullMQ keeps only a string (`failedReason`) of a failed job; the code travels in it as
 * `E_CODE: reason`. encodeFailedReason writes it, decodeFailedReason reads it back (the
 * exporter's record of a job that failed without a result). Nothing else parses messages.
 */
export function encodeFailedReason(code: ErrorCode, reason: string): string {
  return `${code}: ${reason}`;
}

export function decodeFailedReason(failedReason: string | undefined): { code: ErrorCode | undefined; reason: string } {
  const m = /^(E_[A-Z_]+): ([\s\S]*)$/.exec(failedReason ?? '');
  if (m && isErrorCode(m[1])) return { code: m[1], reason: m[2] };
  return { code: undefined, reason: failedReason ?? '' };
}

/** Exit code of a command that ends on `err` (1 for errors outside the catalogue). */
export function exitCodeOf(err: unknown): 1 | 2 {
  return err instanceof RobertaBatchError ? err.exitCode : 1;
}

export function errorMessage(err: unknown): string {
  if (err instanceof RobertaBatchError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
