/**
 * The one flag table: every option of every command, with its flag spelling, environment
 * variable, zod type, default and help text, written once. The commander options
 * (src/cli/options.ts `addFlags`) and the zod schemas that `parseConfig` validates
 * (src/shared/config.ts) are built from these entries, so a default shown by --help is the
 * default applied, and a bad value is reported the same way by every command.
 */
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_PREFIX, DEFAULT_QUEUE } from './queues.js';

export interface FlagEntry<T extends z.ZodType = z.ZodType> {
  /** The config object's key (camelCase). */
  readonly field: string;
  /** Commander spelling: `--max-batch-size <n>`, `--normalize`, `--no-progress`. */
  readonly flag: string;
  /** The variable read when the flag is absent; none for the tool commands' own flags (bench, chaos, soak). */
  readonly env?: string;
  /** Validates a flag string, a variable's string or a library caller's value; messages list the values accepted. */
  readonly type: T;
  /** The one literal of the default, validated by `type` like a given value and shown by --help. */
  readonly default?: unknown;
  /** --help text of a default that depends on other flags or on the host, instead of `default`. */
  readonly defaultHelp?: string;
  /** No default and not optional: parseConfig reports it missing. */
  readonly required?: boolean;
  readonly help: string;
}

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const error = max === Number.MAX_SAFE_INTEGER ? `expected an integer >= ${min}` : `expected an integer from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])], { error: 'expected true or false' })
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => {
  const list = values.length === 1 ? values[0] : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
  return z.enum(values, { error: `expected ${list}` });
};
const text = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });

/** `cpu`, `cuda` (= cuda:0), `cuda:N`, `auto` (CUDA if it loads, else CPU), `auto:N`. */
export const deviceType = z
  .string()
  .regex(/^(cpu|cuda|auto)(:\d+)?$/, { message: 'expected cpu, cuda:N or auto' })
  .refine((s) => !s.startsWith('cpu:'), { message: 'expected cpu, cuda:N or auto' })
  .transform((s) => {
    const [kind, id] = s.split(':');
    return kind === 'cpu' ? ({ kind: 'cpu' } as const) : ({ kind: kind as 'cuda' | 'auto', id: Number(id ?? 0) } as const);
  });

const ENCODINGS: Record<string, 'utf8' | 'latin1'> = { utf8: 'utf8', 'utf-8': 'utf8', latin1: 'latin1', 'latin-1': 'latin1', 'iso-8859-1': 'latin1' };

/** camelCase field → RB_SNAKE_CASE environment variable (the usual name of a few stays: REDIS_URL). */
export function envName(field: string): string {
  return `RB_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** `--max-batch-size <n>` → `--max-batch-size`. */
export function longFlag(entry: Pick<FlagEntry, 'flag'>): string {
  return entry.flag.split(/[ ,]/).filter((s) => s.startsWith('--'))[0];
}

type Spec = Omit<FlagEntry, 'field' | 'env'> & { env?: string | null };
type Entries<S extends Record<string, Spec>> = { readonly [K in keyof S]: Omit<S[K], 'env'> & { readonly field: K & string; readonly env: string | undefined } };

/** Entries keyed by field; `env` defaults to envName(field), `null` = no variable. */
function entries<const S extends Record<string, Spec>>(specs: S): Entries<S> {
  const out: Record<string, FlagEntry> = {};
  for (const [field, s] of Object.entries(specs)) {
    const env = s.env === null ? undefined : (s.env ?? envName(field));
    out[field] = Object.freeze({ ...s, field, env });
  }
  return out as Entries<S>;
}

/** A variant of an entry for one command (another help text or range), the rest unchanged. */
export function variant<E extends FlagEntry, const C extends Partial<Omit<FlagEntry, 'field'>>>(entry: E, changes: C): Omit<E, keyof C> & C {
  return Object.freeze({ ...entry, ...changes });
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** How long a command waits for Redis at start (ms) without --redis-wait-ms; `status` answers sooner. */
export const REDIS_WAIT_MS = { default: 60_000, status: 10_000 } as const;

// Sizes whose literals other modules read (ENQUEUE_DEFAULTS, the worker's window).
/** Jobs held per max-batch-size when --concurrency is 0: the batcher's sorting window. */
export const WINDOW_FACTOR = 32;
/** Documents per job of `enqueue`/`run` of a file (ENQUEUE_DEFAULTS.fileDocsPerJob says why 64). */
export const PACKED_DOCS_PER_JOB = 64;
/** Documents through a pipeline-ceiling run's processes before it is measured (pipeline-ceiling.ts says why). */
export const CEILING_WARMUP_DOCS = 5_000;

export const CONNECTION = entries({
  redisUrl: { flag: '--redis-url <url>', env: 'REDIS_URL', type: text('a Redis URL'), default: DEFAULT_REDIS_URL, help: 'Redis URL: redis://[user:password@]host:port[/db], rediss:// for TLS' },
  queue: { flag: '--queue <name>', type: z.string().regex(/^[A-Za-z0-9._{}-]+$/, { message: 'letters, digits, . _ - and {} (hash tags) only' }), default: DEFAULT_QUEUE, help: 'BullMQ queue holding the documents' },
  prefix: { flag: '--prefix <prefix>', type: text('a key prefix'), default: DEFAULT_PREFIX, help: 'BullMQ key prefix; use a hash tag such as {rb} on Redis Cluster' },
  resultsQueue: { flag: '--results-queue <name>', type: text('a queue name'), defaultHelp: '<queue>-results', help: 'queue receiving one result per document' },
  allowEviction: { flag: '--allow-eviction', type: bool, default: false, help: 'accept a Redis whose maxmemory-policy may evict (and so lose) jobs' },
  /**
   * How long a command waits for Redis at start (backoff 250, 500, 1000, 2000, 4000, then 5000 ms)
   * before E_REDIS_UNREACHABLE; unset: 60 s, 10 s for `status`. Refused credentials fail at once.
   */
  redisWaitMs: { flag: '--redis-wait-ms <ms>', type: integer(0, 3_600_000), defaultHelp: `${REDIS_WAIT_MS.default}; status ${REDIS_WAIT_MS.status}`, help: 'wait this long for Redis at start, then fail with E_REDIS_UNREACHABLE' },
  // Self-signed test servers only; never the default.
  redisTlsInsecure: { flag: '--redis-tls-insecure', env: 'REDIS_TLS_INSECURE', type: bool, default: false, help: 'rediss://: do not verify the server certificate (self-signed test servers only)' },
  // A private CA verifies the server without turning verification off.
  redisTlsCa: { flag: '--redis-tls-ca <file>', env: 'REDIS_TLS_CA', type: text('a PEM file'), help: 'rediss://: PEM file of the CA that signed the Redis server certificate' },
});

export const WORKER = entries({
  task: { flag: '--task <task>', type: oneOf(['sentiment', 'embed']), default: 'sentiment', help: 'sentiment | embed' },
  model: { flag: '--model <path>', type: text('a model file or folder'), required: true, help: 'ONNX model file, or a folder holding model.onnx (+ tokenizer files)' },
  tokenizer: { flag: '--tokenizer <dir>', type: text('a folder'), defaultHelp: 'the model folder', help: 'folder with tokenizer.json or vocab.json + merges.txt' },
  device: { flag: '--device <device>', type: deviceType, default: 'cpu', help: 'cpu | cuda:N | auto (CUDA if it loads, else CPU)' },
  maxBatchSize: { flag: '--max-batch-size <n>', type: integer(1, 4096), default: 32, help: 'documents per batch at most' },
  // 32 x 512: one full-length roberta-base batch, ~1.5 GB of activations on CPU.
  maxBatchTokens: { flag: '--max-batch-tokens <n>', type: integer(16), default: 16_384, help: 'padded tokens (rows x longest) per batch at most' },
  maxWaitMs: { flag: '--max-wait-ms <ms>', type: integer(0, 60_000), default: 20, help: 'send a batch once its first document waited this long' },
  /**
   * Jobs held at once (the batcher's sorting window); 0 = WINDOW_FACTOR x max-batch-size. Measured on the
   * rt-polarity reviews with roberta-base on 2 cores (npm run bench, end to end / onnxruntime
   * alone on globally sorted batches): a window of 128 left 25.8 % of computed tokens as
   * padding (fp32: 0.71 x), 512 left 7.4 % (fp32 0.93-0.96 x, int8 0.84 x), 1024 left 4.5 %
   * (int8 0.91 x). Each held job keeps its texts in memory: at most concurrency x documents per
   * job (enqueue packs 64 by default) x max-doc-bytes, so lower it for very long documents.
   */
  concurrency: { flag: '--concurrency <n>', type: integer(0, 100_000), default: 0, help: `jobs held at once, the window sorted by length into batches; 0 = ${WINDOW_FACTOR} x max-batch-size; each holds its text in memory` },
  maxLength: { flag: '--max-length <n>', type: integer(8, 100_000), defaultHelp: 'the model maximum, 512', help: 'tokens per document incl. <s> </s>; longer texts are truncated' },
  pooling: { flag: '--pooling <mode>', type: oneOf(['mean', 'cls', 'pooler']), default: 'mean', help: 'embed: mean | cls | pooler' },
  normalize: { flag: '--normalize', type: bool, default: false, help: 'embed: L2-normalise embeddings' },
  labels: {
    flag: '--labels <list>',
    type: z.union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))]),
    defaultHelp: 'negative,positive',
    help: 'sentiment: comma-separated label names by logit index',
  },
  outputKind: { flag: '--output-kind <kind>', type: oneOf(['classification', 'base']), help: 'override output detection: classification | base' },
  graphOptimization: { flag: '--graph-optimization <level>', type: oneOf(['disabled', 'basic', 'extended', 'all']), default: 'all', help: 'onnxruntime graph optimisation: disabled | basic | extended | all' },
  intraOpThreads: { flag: '--intra-op-threads <n>', type: integer(0, 1024), default: 0, help: 'onnxruntime threads inside an operator; 0 = one per core' },
  interOpThreads: { flag: '--inter-op-threads <n>', type: integer(0, 1024), default: 0, help: 'onnxruntime threads across operators; 0 = default' },
  // Unset: engine.ts SPINNING_DEFAULT (off).
  ortSpinning: { flag: '--ort-spinning <on|off>', type: oneOf(['on', 'off']), defaultHelp: 'off; docs/BENCHMARKS.md', help: 'onnxruntime threads spin-wait between operators' },
  metricsPort: { flag: '--metrics-port <port>', type: integer(0, 65535), default: 9464, help: 'port of /metrics, /healthz, /readyz; 0 = any free port' },
  metricsHost: { flag: '--metrics-host <addr>', type: z.string(), default: '127.0.0.1', help: 'address the metrics server binds (0.0.0.0 in containers)' },
  // BullMQ locks: renewed every lockDuration/2 by the main thread, which inference never blocks.
  // The lock need not outlast a batch (a 64 x 512 base-model batch takes ~49 s on 2 CPU cores):
  // 60 s tolerates a renewal late by up to 30 s. docs/RELIABILITY.md
  // Floors far below any production value so that lock tests can use locks shorter than the
  // batch they time on the machine at hand (BullMQ's own stalled-job tests use 1,000 / 100 ms).
  lockDurationMs: { flag: '--lock-duration-ms <ms>', type: integer(100), default: 60_000, help: 'BullMQ job lock, renewed every half of it' },
  stalledIntervalMs: { flag: '--stalled-interval-ms <ms>', type: integer(25), default: 30_000, help: 'how often expired locks are checked' },
  maxStalledCount: { flag: '--max-stalled-count <n>', type: integer(0, 100), default: 2, help: 'times a job may stall before it fails' },
  // Kubernetes sends SIGKILL 30 s after SIGTERM by default: drain within 25 s.
  shutdownGraceMs: { flag: '--shutdown-grace-ms <ms>', type: integer(0), default: 25_000, help: 'time to finish jobs in flight after SIGTERM' },
  /** Texts over the model's window: `truncate` (reported per result) or `chunk` (windows, aggregated). */
  longDocs: { flag: '--long-docs <mode>', type: oneOf(['truncate', 'chunk']), default: 'truncate', help: 'texts longer than the model window: truncate | chunk (overlapping windows, token-weighted mean)' },
  chunkOverlap: { flag: '--chunk-overlap <n>', type: integer(0, 4096), default: 64, help: 'tokens shared by consecutive windows with --long-docs chunk' },
  // The producer refuses larger documents with the same limit (ENQUEUE_DEFAULTS reads this default).
  maxDocBytes: { flag: '--max-doc-bytes <n>', type: integer(1), default: 1 << 20, help: 'documents over this many UTF-8 bytes fail with E_INPUT_TOO_LARGE' },
  workerId: { flag: '--worker-id <id>', type: z.string(), default: `${os.hostname()}-${process.pid}`, defaultHelp: '<hostname>-<pid>', help: 'name in logs and result records' },
  skipHash: { flag: '--skip-hash', type: bool, default: false, help: 'do not sha256 the model file at start (results then say "unhashed")' },
});

/**
 * `roberta-batch worker --gpus 0,1 | --processes N`: one supervisor, one worker process per GPU
 * (n with --processes-per-gpu n) or N on CPU (src/supervisor/). `--ui` also applies to a single worker.
 */
export const SCALE_OUT = entries({
  gpus: {
    flag: '--gpus <list>',
    type: z.string().regex(/^\d+(,\d+)*$/, { message: 'expected GPU indices as the host numbers them, such as 0,1,2,3' }).transform((s) => s.split(',').map(Number)),
    help: 'one worker process per GPU (--processes-per-gpu for more), e.g. 0,1,2,3: each sees only its GPU (CUDA_VISIBLE_DEVICES) and runs --device cuda:0 (auto:0 with --device auto)',
  },
  processesPerGpu: {
    flag: '--processes-per-gpu <n>',
    type: integer(1, 64),
    defaultHelp: '1',
    help: 'with --gpus: n worker processes on each GPU, for a GPU that one process cannot keep busy (each has its own model copy in GPU memory)',
  },
  processes: { flag: '--processes <n>', type: integer(1, 256), help: 'CPU hosts: n worker processes under one supervisor' },
  threadsPerProcess: { flag: '--threads-per-process <n>', type: integer(1, 1024), defaultHelp: 'CPU cores / processes, at least 1', help: 'onnxruntime intra-op threads of each process' },
  // Restart backoff (ms): 1000, 2000, 4000 ... 30000, doubled per crash in a row.
  restartBackoffMs: { flag: '--restart-backoff-ms <ms>', type: integer(10, 60_000), default: 1_000, help: 'first restart delay of a crashed worker process, doubled per crash in a row up to 30 s' },
  maxStartFailures: { flag: '--max-start-failures <n>', type: integer(1, 1_000), default: 5, help: 'give up (exit 1) when a worker process fails this many times in a row before it is ready' },
  ui: { flag: '--ui', type: bool, default: false, help: 'serve the queue UI (bull-board) at /ui on the metrics server, read-only' },
  uiWrite: { flag: '--ui-write', type: bool, default: false, help: 'let the queue UI retry, remove and clean jobs (implies --ui)' },
});

/** How documents are read from a file; `enqueue`, `run`, `eval` and `reconcile` all take these. */
export const INPUT = entries({
  format: { flag: '--format <format>', type: oneOf(['auto', 'jsonl', 'csv', 'text']), default: 'auto', help: 'auto | jsonl | csv | text; auto: .jsonl/.ndjson → jsonl, .csv → csv, else text; a .gz suffix is looked through' },
  idField: { flag: '--id-field <name>', type: text('a field name'), default: 'id', help: 'JSONL/CSV field holding the document id; numbers become strings, digit for digit' },
  textField: { flag: '--text-field <name>', type: text('a field name'), default: 'text', help: 'JSONL/CSV field holding the text; every other field is kept as meta' },
  autoId: { flag: '--auto-id', type: bool, default: false, help: 'JSONL/CSV: a document without an id gets <basename>:<line> instead of being rejected' },
  idPrefix: { flag: '--id-prefix <prefix>', type: text('a non-empty prefix'), defaultHelp: 'input basename, stdin for -', help: 'prefix of generated ids <prefix>:<line> (text format, --auto-id)' },
  encoding: {
    flag: '--encoding <enc>',
    type: z.string().transform((s) => ENCODINGS[s.toLowerCase()]).refine((v) => v !== undefined, { error: 'expected utf8 or latin1' }),
    default: 'utf8',
    help: 'utf8 | latin1; with utf8 a line that is not valid UTF-8 is rejected, not altered',
  },
  /** A producer limit, but the one E_INPUT_TOO_LARGE tells every command's user to raise. */
  maxJobBytes: { flag: '--max-job-bytes <n>', type: integer(1024), default: 2 << 20, help: 'reject (E_INPUT_TOO_LARGE) a job payload over this many bytes; packs close early' },
});

/** `enqueue` (and `reconcile --requeue`). Under 1 KiB even a one-word document with its runId would not fit --max-job-bytes. */
export const PRODUCER = entries({
  docsPerJob: { flag: '--docs-per-job <n>', type: integer(1, 100_000), defaultHelp: `${PACKED_DOCS_PER_JOB}, 1 with --skip-unchanged`, help: 'documents per job; >1 packs them, job id pack-<sha1 of ids>, dedup per pack; 1 = one job per document, id = document id' },
  chunkSize: { flag: '--chunk-size <n>', type: integer(1, 100_000), default: 1_000, help: 'jobs per addBulk round trip' },
  maxWaiting: { flag: '--max-waiting <n>', type: integer(0), default: 100_000, help: 'pause while the queue has more waiting jobs than this' },
  runId: { flag: '--run-id <id>', type: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, { error: 'expected 1-100 letters, digits, . _ or -' }), defaultHelp: 'run-YYYYMMDD-HHMMSS-xxxx, UTC', help: 'run id stored with every job' },
  maxDocBytes: variant(WORKER.maxDocBytes, { help: 'reject (E_INPUT_TOO_LARGE) documents whose text is over this many UTF-8 bytes' }),
  strict: { flag: '--strict', type: bool, default: false, help: 'abort (exit 1) on the first malformed or rejected line instead of skipping it' },
  errorsOut: { flag: '--errors-out <file>', type: text('a file path'), help: 'write malformed and rejected lines there as JSON Lines {lineNo, code, message, id?}' },
  skipUnchanged: { flag: '--skip-unchanged', type: bool, default: false, help: 'skip documents whose stored result came from the same text and model setup; re-score changed ones (docs/INCREMENTAL.md)' },
  keepDoneDays: { flag: '--keep-done-days <days>', type: integer(0, 36_500), default: 0, help: 'finished documents keep a ~100-byte marker in Redis (dedup, --skip-unchanged, reconcile) for this many days; after that a re-enqueue recomputes them; 0 = forever (docs/RELIABILITY.md)' },
  /** Older name of keepDoneDays (fingerprints are now the finished documents' markers). */
  fingerprintTtlDays: { flag: '--fingerprint-ttl-days <days>', type: integer(0, 36_500), help: 'older name of --keep-done-days' },
});

/** Sizes of `run` and `eval` (worker instances in this process, documents per job). */
export const PIPELINE = entries({
  workers: { flag: '--workers <n>', type: integer(1, 256), default: 1, help: 'worker instances (each with its own onnxruntime session)' },
  // Unset: `run` packs PACKED_DOCS_PER_JOB, `eval` one document per job.
  docsPerJob: { flag: '--docs-per-job <n>', type: integer(1, 10_000), defaultHelp: `${PACKED_DOCS_PER_JOB}; eval 1`, help: 'documents packed into one job; 1 = one job per document' },
  out: { flag: '--out <file>', env: null, required: true, type: text('a file path'), help: 'JSON Lines file for the results' },
  errorsOut: { flag: '--errors-out <file>', env: null, type: text('a file path'), defaultHelp: '<out>.errors.jsonl', help: 'failures and rejected lines' },
  keepQueues: { flag: '--keep-queues', env: null, type: bool, default: false, help: 'keep the run queue and its results in Redis afterwards' },
});

/** `eval`'s own options. */
export const EVAL = entries({
  data: { flag: '--data <file>', env: null, required: true, type: text('a file path'), help: 'labelled JSON Lines or CSV file' },
  labelField: { flag: '--label-field <name>', env: null, required: true, type: text('a field name'), help: 'field holding the gold label' },
  predictions: { flag: '--predictions <file>', env: null, type: text('a file path'), help: 'keep the per-document predictions (JSON Lines) in this file' },
});

/** Program-wide options (every command's --help lists them). */
export const OUTPUT = entries({
  logFormat: { flag: '--log-format <format>', env: 'RB_LOG_FORMAT', type: oneOf(['auto', 'json', 'pretty']), default: 'auto', help: 'auto: human lines on a terminal, JSON lines elsewhere and in Kubernetes pods | json | pretty' },
  // The pino level; --quiet (error) and --verbose (debug) set it too.
  logLevel: { flag: '--log-level <level>', env: 'LOG_LEVEL', type: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', help: 'fatal | error | warn | info | debug | trace | silent' },
  quiet: { flag: '-q, --quiet', env: null, type: bool, default: false, help: 'only the summary and errors' },
  verbose: { flag: '-v, --verbose', env: null, type: bool, default: false, help: 'debug logs (LOG_LEVEL=debug)' },
});

/** Options printing a machine-readable report instead of a table, shared by several commands. */
export const REPORT = entries({
  json: { flag: '--json', env: null, type: bool, default: false, help: 'print JSON' },
  progress: { flag: '--no-progress', env: null, type: bool, default: true, help: 'no progress line on stderr' },
});

export const RESULTS = entries({
  out: { flag: '--out <file>', env: null, required: true, type: text('a file path'), help: 'JSON Lines file to append results to, or the Parquet file to write (see --format)' },
  format: { flag: '--format <format>', env: null, type: oneOf(['jsonl', 'parquet']), default: 'jsonl', help: 'jsonl: one JSON record per line, appended | parquet: one file with a float32 vector column, written to <out>.part and renamed when the export ends; rows already in <out> are kept (docs/OUTPUT.md)' },
  errorsOut: { flag: '--errors-out <file>', env: null, type: text('a file path'), defaultHelp: '<out>.errors.jsonl', help: 'file for failure records, JSON Lines in both formats' },
  follow: { flag: '--follow', env: null, type: bool, default: false, help: 'keep running and export new results as they arrive' },
});

export const STATUS = entries({
  run: { flag: '--run <id>', env: null, type: text('a run id'), defaultHelp: 'the 20 most recent', help: 'one run' },
});

export const RECONCILE = entries({
  maxDocBytes: variant(WORKER.maxDocBytes, { help: 'as for enqueue: larger documents were rejected at enqueue and are not looked up' }),
  maxJobBytes: variant(INPUT.maxJobBytes, { help: 'as for enqueue, for re-enqueued documents' }),
  runId: variant(PRODUCER.runId, { defaultHelp: 'a new one', help: 'run id stored with re-enqueued jobs' }),
  requeue: { flag: '--requeue', type: bool, default: false, help: 'enqueue the missing documents again (same job ids: safe to repeat)' },
  ids: { flag: '--no-ids', env: null, type: bool, default: true, help: 'print the counts only, not the missing and in-progress ids' },
});

export const MODELS = entries({
  dir: { flag: '--dir <dir>', env: null, type: text('a folder'), default: 'models', help: 'folder receiving <name>/' },
  baseUrl: { flag: '--base-url <url>', env: 'ROBERTA_BATCH_MODEL_MIRROR', type: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }), help: 'mirror serving the same paths' },
  preset: { flag: '--preset <preset>', env: null, type: oneOf(['tiny', 'base']), default: 'tiny', help: 'tiny (fast, tests) | base (exact roberta-base shape, ~500 MB)' },
  head: { flag: '--head <head>', env: null, type: oneOf(['sequence-classification', 'base']), default: 'sequence-classification', help: 'sequence-classification | base' },
  signature: { flag: '--signature <sig>', env: null, type: oneOf(['zoo', 'hf']), default: 'zoo', help: 'zoo (one int64 token-id input, no mask: like the ONNX Model Zoo files) | hf (input_ids + attention_mask)' },
  seed: { flag: '--seed <n>', env: null, type: integer(0), default: 42, help: 'weight seed' },
  out: { flag: '--out <path>', env: null, required: true, type: text('a path'), help: 'destination: a .onnx file, or a folder that receives model.onnx plus the sample tokenizer (ready for --model DIR)' },
  int8: { flag: '--int8', env: null, type: bool, required: true, help: 'int8 dynamic quantization (the only mode)' },
});

/** "1,64,64x2": pipeline-ceiling runs as [documents per job, worker processes]. */
const ceilingRuns = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => /^(\d+)(?:x(\d+))?$/.exec(x)))
  .refine((runs) => runs.length > 0 && runs.every((m) => m && Number(m[1]) >= 1 && Number(m[2] ?? 1) >= 1), { error: 'expected docsPerJob[xWorkers],... e.g. 1,64,64x2' })
  .transform((runs) => runs.map((m) => [Number(m![1]), Number(m![2] ?? 1)] as [number, number]));
const words = (sep: RegExp) => z.string().transform((s) => s.split(sep).map((x) => x.trim()).filter(Boolean));

// Tool commands: their flags have no variables (RB_WORKERS is `run`'s), so an exported variable
// of a pipeline never changes a benchmark. Their defaults live with the runs (CHAOS_FULL,
// SOAK_FULL ...); the commands add them to the help text.
export const BENCH = entries({
  quick: { flag: '--quick', env: null, type: bool, default: false, help: 'small samples: 3-6 minutes on 2 cores' },
  precision: { flag: '--precision <p>', env: null, type: oneOf(['fp32', 'int8']), default: 'fp32', help: 'fp32 | int8 (int8 also measures the fp32 ceiling and embedding similarity)' },
  docs: { flag: '--docs <n>', env: null, type: integer(32), help: 'documents per throughput section' },
  queueDocs: { flag: '--queue-docs <n>', env: null, type: integer(32), help: 'documents of the queue-path and memory-growth runs' },
  workerArgs: { flag: '--worker-args <flags>', env: null, type: words(/\s+/), help: 'flags for the benchmarked worker, e.g. "--max-batch-size 64 --intra-op-threads 2"' },
  skip: { flag: '--skip <sections>', env: null, type: words(/,/), help: 'comma-separated: naive, transformers-js, queue-path, memory, similarity, ceiling' },
  only: { flag: '--only <section>', env: null, type: oneOf(['ceiling']), help: 'run one section only: ceiling (the pipeline ceiling on a near-free model, ~1 minute with --quick)' },
  ceilingDocs: { flag: '--ceiling-docs <n>', env: null, type: integer(64), help: 'documents of each pipeline-ceiling run' },
  ceilingRuns: { flag: '--ceiling-runs <list>', env: null, type: ceilingRuns, defaultHelp: '1,64; e.g. 1,64,64x2', help: 'pipeline-ceiling runs as docsPerJob[xWorkers], comma-separated' },
  ceilingModel: { flag: '--ceiling-model <m>', env: null, type: oneOf(['micro', 'base']), default: 'micro', help: 'model of the pipeline-ceiling runs: micro (1 layer, hidden 8: what the pipeline itself costs) or base (roberta-base-shaped, in --precision: what a worker does on a GPU, with --worker-args "--device cuda:0")' },
  ceilingWarmup: { flag: '--ceiling-warmup <n>', env: null, type: integer(0), default: CEILING_WARMUP_DOCS, help: 'documents passed through each pipeline-ceiling run\'s workers before it is measured (at most its own); 0 measures cold processes' },
  ceilingRounds: { flag: '--ceiling-rounds <n>', env: null, type: integer(1, 50), help: 'times each pipeline-ceiling run is measured, each between two fresh measurements of its reference; ratios are the median over rounds' },
  baselineCli: { flag: '--baseline-cli <file>', env: null, type: text('a file path'), help: "another build's dist/cli/main.js (an earlier commit): the end-to-end section and each pipeline-ceiling run are also made with it, for before/after ratios in one run" },
  cpuProf: { flag: '--cpu-prof <dir>', env: null, type: text('a folder'), help: 'write a CPU profile of every pipeline-ceiling worker process into <dir> (node --cpu-prof)' },
  report: { flag: '--report <file>', env: null, type: text('a file path'), default: 'docs/BENCHMARKS.md', help: 'Markdown file receiving the results section' },
  write: { flag: '--no-write', env: null, type: bool, default: true, help: 'print the results only' },
  redisUrl: variant(CONNECTION.redisUrl, { default: undefined, defaultHelp: '127.0.0.1:6379 if it answers, else a private redis-server' }),
});

export const CHAOS = entries({
  quick: { flag: '--quick', env: null, type: bool, default: false, help: '600 documents, 1 SIGKILL, 1 Redis restart, 1 pause (about a minute)' },
  documents: { flag: '--documents <n>', env: null, type: integer(50), help: 'good documents' },
  workers: { flag: '--workers <n>', env: null, type: integer(2), help: 'worker processes' },
  kills: { flag: '--kills <n>', env: null, type: integer(0), help: 'SIGKILLs shortly after a batch starts' },
  keep: { flag: '--keep', env: null, type: bool, default: false, help: 'keep the run folder (inputs, export, rejected lines)' },
});

export const SOAK = entries({
  short: { flag: '--short', env: null, type: bool, default: false, help: '20,000 documents under maxmemory 16mb (what npm test runs)' },
  documents: { flag: '--documents <n>', env: null, type: integer(1), help: 'documents' },
  maxmemory: { flag: '--maxmemory <size>', env: null, type: z.string().regex(/^\d+([kmg]b?)?$/i, { error: 'expected a redis-server size such as 256mb' }), help: 'redis-server maxmemory' },
  docsPerJob: { flag: '--docs-per-job <n>', env: null, type: integer(1), help: 'documents per job' },
  maxWaiting: { flag: '--max-waiting <n>', env: null, type: integer(1), help: 'producer back-pressure, in waiting jobs' },
});

/** --help text of an entry: its help, the default from the table, its variable. */
export function helpText(entry: FlagEntry): string {
  const shown = entry.defaultHelp ?? (entry.default === undefined || typeof entry.default === 'boolean' ? undefined : String(entry.default));
  return `${entry.help}${shown !== undefined ? ` (default ${shown})` : ''}${entry.env ? ` [env ${entry.env}]` : ''}`;
}

export type FlagEntries = Readonly<Record<string, FlagEntry>>;
type FieldSchema<E> = E extends { type: infer T extends z.ZodType; default: NonNullable<unknown> } ? z.ZodPrefault<T> : E extends { type: infer T extends z.ZodType; required: true } ? T : E extends { type: infer T extends z.ZodType } ? z.ZodOptional<T> : never;
export type ShapeOf<R extends FlagEntries> = { -readonly [K in keyof R]: FieldSchema<R[K]> };

const built = new WeakMap<z.ZodObject, FlagEntries>();

/**
 * The zod object of a command's entries: each field its type, with the table default applied
 * (and validated like a given value) when neither flag nor variable is given. parseConfig finds
 * the entries again to name each field's flag and variable in its messages.
 */
export function schemaOf<const R extends FlagEntries>(table: R): z.ZodObject<ShapeOf<R>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [field, e] of Object.entries(table)) shape[field] = e.required ? e.type : e.default === undefined ? e.type.optional() : e.type.prefault(e.default as never);
  const schema = z.object(shape) as unknown as z.ZodObject<ShapeOf<R>>;
  built.set(schema, table);
  return schema;
}

/** The entries a schema was built from. */
export function entriesOf(schema: z.ZodObject): FlagEntries | undefined {
  return built.get(schema);
}

/** Every entry by field, for the variable of a field whatever the command (the first table naming it wins). */
export const ALL_FLAGS: FlagEntries = Object.freeze(Object.assign({}, BENCH, CHAOS, SOAK, MODELS, RESULTS, STATUS, EVAL, REPORT, RECONCILE, PIPELINE, PRODUCER, INPUT, OUTPUT, SCALE_OUT, WORKER, CONNECTION));
