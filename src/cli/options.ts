/**
 * Flag definitions shared by the commands that start workers (`worker`, `run`, `bench`).
 * Each flag names its environment variable in --help; the schema in src/shared/config.ts
 * holds the defaults and the validation.
 */
import { Command, Option } from 'commander';
import { envName, parseConfig } from '../shared/config.js';
import { inputSchema } from '../producer/options.js';
import { E, RobertaBatchError, errorMessage, exitCodeOf } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import type { InputEncoding, InputFormatOption, ReaderOptions } from '../producer/readers.js';

type Flag = [field: string, flags: string, description: string];

export const CONNECTION_FLAGS: Flag[] = [
  ['redisUrl', '--redis-url <url>', 'Redis URL: redis://[user:password@]host:port[/db], rediss:// for TLS (default redis://127.0.0.1:6379)'],
  ['queue', '--queue <name>', 'BullMQ queue holding the documents (default roberta)'],
  ['prefix', '--prefix <prefix>', 'BullMQ key prefix; use a hash tag such as {rb} on Redis Cluster (default bull)'],
  ['resultsQueue', '--results-queue <name>', 'queue receiving one result per document (default <queue>-results)'],
  ['allowEviction', '--allow-eviction', 'accept a Redis whose maxmemory-policy may evict (and so lose) jobs'],
  ['redisWaitMs', '--redis-wait-ms <ms>', 'wait this long for Redis at start, then fail with E_REDIS_UNREACHABLE (default 60000; status 10000)'],
];

export const WORKER_FLAGS: Flag[] = [
  ['task', '--task <task>', 'sentiment | embed (default sentiment)'],
  ['model', '--model <path>', 'ONNX model file, or a folder holding model.onnx (+ tokenizer files)'],
  ['tokenizer', '--tokenizer <dir>', 'folder with tokenizer.json or vocab.json + merges.txt (default: the model folder)'],
  ['device', '--device <device>', 'cpu | cuda:N | auto (CUDA if it loads, else CPU) (default cpu)'],
  ['maxBatchSize', '--max-batch-size <n>', 'documents per batch at most (default 32)'],
  ['maxBatchTokens', '--max-batch-tokens <n>', 'padded tokens (rows x longest) per batch at most (default 16384)'],
  ['maxWaitMs', '--max-wait-ms <ms>', 'send a batch once its first document waited this long (default 20)'],
  ['concurrency', '--concurrency <n>', 'jobs held at once, the window sorted by length into batches; 0 = 32 x max-batch-size; each holds its text in memory (default 0)'],
  ['maxLength', '--max-length <n>', 'tokens per document incl. <s> </s>; longer texts are truncated (default: the model maximum, 512)'],
  ['pooling', '--pooling <mode>', 'embed: mean | cls | pooler (default mean)'],
  ['normalize', '--normalize', 'embed: L2-normalise embeddings'],
  ['labels', '--labels <list>', 'sentiment: comma-separated label names by logit index (default negative,positive)'],
  ['outputKind', '--output-kind <kind>', 'override output detection: classification | base'],
  ['graphOptimization', '--graph-optimization <level>', 'onnxruntime graph optimisation: disabled | basic | extended | all (default all)'],
  ['intraOpThreads', '--intra-op-threads <n>', 'onnxruntime threads inside an operator; 0 = one per core (default 0)'],
  ['interOpThreads', '--inter-op-threads <n>', 'onnxruntime threads across operators; 0 = default (default 0)'],
  ['ortSpinning', '--ort-spinning <on|off>', 'onnxruntime threads spin-wait between operators (default off; docs/BENCHMARKS.md)'],
  ['metricsPort', '--metrics-port <port>', 'port of /metrics, /healthz, /readyz; 0 = any free port (default 9464)'],
  ['metricsHost', '--metrics-host <addr>', 'address the metrics server binds (default 127.0.0.1; 0.0.0.0 in containers)'],
  ['lockDurationMs', '--lock-duration-ms <ms>', 'BullMQ job lock, renewed every half of it (default 60000)'],
  ['stalledIntervalMs', '--stalled-interval-ms <ms>', 'how often expired locks are checked (default 30000)'],
  ['maxStalledCount', '--max-stalled-count <n>', 'times a job may stall before it fails (default 2)'],
  ['shutdownGraceMs', '--shutdown-grace-ms <ms>', 'time to finish jobs in flight after SIGTERM (default 25000)'],
  ['longDocs', '--long-docs <mode>', 'texts longer than the model window: truncate | chunk (overlapping windows, token-weighted mean) (default truncate)'],
  ['chunkOverlap', '--chunk-overlap <n>', 'tokens shared by consecutive windows with --long-docs chunk (default 64)'],
  ['maxDocBytes', '--max-doc-bytes <n>', 'documents over this many UTF-8 bytes fail with E_INPUT_TOO_LARGE (default 1048576)'],
  ['workerId', '--worker-id <id>', 'name in logs and result records (default <hostname>-<pid>)'],
  ['skipHash', '--skip-hash', 'do not sha256 the model file at start (results then say "unhashed")'],
];

export function addFlags(cmd: Command, flags: Flag[]): Command {
  for (const [field, f, desc] of flags) cmd.addOption(new Option(f, `${desc} [env ${envName(field)}]`));
  return cmd;
}

/** Commander's parsed options restricted to the given fields. */
export function pick(opts: Record<string, unknown>, flags: Flag[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field] of flags) if (opts[field] !== undefined) out[field] = opts[field];
  return out;
}

/**
 * Runs a command body: errors print as `E_CODE: message — hint` without a stack trace (and
 * without a library's error object, which may hold the Redis password in the failed AUTH);
 * the exit code is the catalogue's (2 for invalid configuration, 1 for everything else).
 */
export async function runCommand(body: () => Promise<number | void>): Promise<never> {
  try {
    const code = await body();
    process.exit(code ?? 0);
  } catch (err) {
    if (err instanceof RobertaBatchError) process.stderr.write(`${err.describe()}\n`);
    // A bug, not an operational state: the stack helps a report, only on request (--verbose).
    else process.stderr.write(`error: ${errorMessage(err)}\n${logger().isLevelEnabled('debug') ? `${(err as Error)?.stack ?? ''}\n` : '(run with --verbose for the stack trace)\n'}`);
    logger().flush?.();
    process.exit(exitCodeOf(err));
  }
}

/** How documents are read from a file; `enqueue`, `run` and `eval` all take these. */
export const INPUT_FLAGS: Flag[] = [
  ['format', '--format <format>', 'auto | jsonl | csv | text; auto: .jsonl/.ndjson → jsonl, .csv → csv, else text; a .gz suffix is looked through (default auto)'],
  ['idField', '--id-field <name>', 'JSONL/CSV field holding the document id; numbers become strings, digit for digit (default id)'],
  ['textField', '--text-field <name>', 'JSONL/CSV field holding the text; every other field is kept as meta (default text)'],
  ['autoId', '--auto-id', 'JSONL/CSV: a document without an id gets <basename>:<line> instead of being rejected'],
  ['idPrefix', '--id-prefix <prefix>', 'prefix of generated ids <prefix>:<line> (text format, --auto-id) (default: input basename, stdin for -)'],
  ['encoding', '--encoding <enc>', 'utf8 | latin1; with utf8 a line that is not valid UTF-8 is rejected, not altered (default utf8)'],
];

/** `--max-job-bytes`: a producer limit, but the one E_INPUT_TOO_LARGE tells every command's user to raise. */
export const MAX_JOB_BYTES_FLAG: Flag = ['maxJobBytes', '--max-job-bytes <n>', 'reject (E_INPUT_TOO_LARGE) a job payload over this many bytes; packs close early (default 2097152)'];

/**
 * Reader options (plus --max-job-bytes) for `run` and `eval`: flags over RB_* variables over the
 * defaults, validated by the schema `enqueue` uses, invalid values reported as E_CONFIG.
 */
export function readerOptionsFrom(opts: Record<string, unknown>): ReaderOptions & { maxJobBytes: number } {
  const c = parseConfig(inputSchema, pick(opts, [...INPUT_FLAGS, MAX_JOB_BYTES_FLAG]));
  return {
    format: c.format as InputFormatOption,
    idField: c.idField,
    textField: c.textField,
    autoId: c.autoId,
    ...(c.idPrefix !== undefined ? { idPrefix: c.idPrefix } : {}),
    encoding: c.encoding as InputEncoding,
    maxJobBytes: c.maxJobBytes,
  };
}

/**
 * An optional whole-number flag of a tool command (chaos, soak): undefined when not given,
 * E_CONFIG (exit 2) naming the flag and the bound when it is not an integer >= min.
 */
export function integerFlag(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw E.CONFIG(`invalid configuration:\n  ${name} "${v}": expected an integer >= ${min}`);
  return n;
}
