/**
 * Configuration: one zod schema per command, defaults in one place, read once, frozen.
 * Every field can come from a flag (`--max-batch-size 64`) or an environment variable
 * (`RB_MAX_BATCH_SIZE=64`, plus the conventional `REDIS_URL`); flags win. All invalid fields
 * are reported together, each with the values it accepts.
 */
import os from 'node:os';
import { z } from 'zod';
import { E } from './errors.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE } from './queues.js';
import { DEFAULT_REDIS_URL, hasHashTag, isClusterUrl } from './redis-url.js';

/** Integers from a flag or variable; the message names the accepted range (`--workers abc` says what it takes). */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const message = max === Number.MAX_SAFE_INTEGER ? `expected an integer >= ${min}` : `expected an integer from ${min} to ${max}`;
  return z.coerce.number({ message }).int({ message }).min(min, { message }).max(max, { message });
};
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** `cpu`, `cuda` (= cuda:0), `cuda:N`, `auto` (CUDA if it loads, else CPU), `auto:N`. */
export const deviceSchema = z
  .string()
  .regex(/^(cpu|cuda|auto)(:\d+)?$/, { message: 'expected cpu, cuda:N or auto' })
  .refine((s) => !s.startsWith('cpu:'), { message: 'expected cpu, cuda:N or auto' })
  .transform((s) => {
    const [kind, id] = s.split(':');
    return kind === 'cpu' ? ({ kind: 'cpu' } as const) : ({ kind: kind as 'cuda' | 'auto', id: Number(id ?? 0) } as const);
  });

export const connectionSchema = z.object({
  redisUrl: z.string().min(1).default(DEFAULT_REDIS_URL),
  queue: z.string().regex(/^[A-Za-z0-9._{}-]+$/, { message: 'letters, digits, . _ - and {} (hash tags) only' }).default(DEFAULT_QUEUE),
  prefix: z.string().min(1).default(DEFAULT_PREFIX),
  resultsQueue: z.string().optional(),
  allowEviction: bool.default(false),
  /**
   * How long a command waits for Redis at start (backoff 250, 500, 1000, 2000, 4000, then 5000 ms)
   * before E_REDIS_UNREACHABLE; unset: 60 s, 10 s for `status`. Refused credentials fail at once.
   */
  redisWaitMs: int(0, 3_600_000).optional(),
});

/** Pipeline sizes of `run` and `eval` (worker instances in this process, documents per job). */
export const pipelineSchema = z.object({
  workers: int(1, 256).default(1),
  // Unset: `run` packs ENQUEUE_DEFAULTS.fileDocsPerJob (64), `eval` one document per job.
  docsPerJob: int(1, 10_000).optional(),
});

export const workerSchema = connectionSchema.extend({
  task: z.enum(['sentiment', 'embed']).default('sentiment'),
  model: z.string().min(1),
  tokenizer: z.string().optional(),
  device: deviceSchema.default({ kind: 'cpu' }),
  maxBatchSize: int(1, 4096).default(32),
  // 32 x 512: one full-length roberta-base batch, ~1.5 GB of activations on CPU.
  maxBatchTokens: int(16).default(16_384),
  maxWaitMs: int(0, 60_000).default(20),
  /**
   * Jobs held at once (the batcher's sorting window); 0 = 32 x max-batch-size. Measured on the
   * rt-polarity reviews with roberta-base on 2 cores (npm run bench, end to end / onnxruntime
   * alone on globally sorted batches): a window of 128 left 25.8 % of computed tokens as
   * padding (fp32: 0.71 x), 512 left 7.4 % (fp32 0.93-0.96 x, int8 0.84 x), 1024 left 4.5 %
   * (int8 0.91 x). Each held job keeps its texts in memory: at most concurrency x documents per
   * job (enqueue packs 64 by default) x max-doc-bytes, so lower it for very long documents.
   */
  concurrency: int(0, 100_000).default(0),
  maxLength: int(8, 100_000).optional(),
  pooling: z.enum(['mean', 'cls', 'pooler']).default('mean'),
  normalize: bool.default(false),
  labels: z.union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))]).optional(),
  outputKind: z.enum(['classification', 'base']).optional(),
  graphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
  intraOpThreads: int(0, 1024).default(0),
  interOpThreads: int(0, 1024).default(0),
  /** onnxruntime pool threads spin-wait between operators; unset = engine.ts SPINNING_DEFAULT. */
  ortSpinning: z.enum(['on', 'off']).optional(),
  metricsPort: int(0, 65535).default(9464),
  metricsHost: z.string().default('127.0.0.1'),
  // BullMQ locks: renewed every lockDuration/2 by the main thread, which inference never blocks.
  // The lock need not outlast a batch (inference never blocks the renewing thread; a 64 x 512
  // base-model batch takes ~49 s on 2 CPU cores): 60 s tolerates a renewal late by up to 30 s. docs/RELIABILITY.md
  // Floors far below any production value so that lock tests can use locks shorter than the
  // batch they time on the machine at hand (BullMQ's own stalled-job tests use 1,000 / 100 ms).
  lockDurationMs: int(100).default(60_000),
  stalledIntervalMs: int(25).default(30_000),
  maxStalledCount: int(0, 100).default(2),
  // Kubernetes sends SIGKILL 30 s after SIGTERM by default: drain within 25 s.
  shutdownGraceMs: int(0).default(25_000),
  maxDocBytes: int(1).default(1 << 20),
  /** Texts over the model's window: `truncate` (default, reported per result) or `chunk` (windows, aggregated). */
  longDocs: z.enum(['truncate', 'chunk']).default('truncate'),
  /** Tokens shared by consecutive windows with --long-docs chunk. */
  chunkOverlap: int(0, 4096).default(64),
  workerId: z.string().default(`${os.hostname()}-${process.pid}`),
  skipHash: bool.default(false),
});

export type WorkerConfig = z.infer<typeof workerSchema>;

/**
 * `roberta-batch worker --gpus 0,1 | --processes N`: one supervisor, one worker process per GPU
 * or N on CPU (src/supervisor/). `--ui` also applies to a single worker.
 */
export const scaleOutSchema = z.object({
  gpus: z.string().regex(/^\d+(,\d+)*$/, { message: 'expected GPU indices as the host numbers them, such as 0,1,2,3' })
    .transform((s) => s.split(',').map(Number)).optional(),
  processes: int(1, 256).optional(),
  threadsPerProcess: int(1, 1024).optional(),
  // Restart backoff (ms): 1000, 2000, 4000 ... 30000, doubled per crash in a row.
  restartBackoffMs: int(10, 60_000).default(1_000),
  maxStartFailures: int(1, 1_000).default(5),
  ui: bool.default(false),
  uiWrite: bool.default(false),
});

export type ScaleOutConfig = z.infer<typeof scaleOutSchema>;

/** camelCase field → RB_SNAKE_CASE environment variable (REDIS_URL keeps its usual name). */
export function envName(field: string): string {
  if (field === 'redisUrl') return 'REDIS_URL';
  return `RB_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function envValues(fields: string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = env[envName(f)];
    if (v !== undefined && v !== '') out[f] = v;
  }
  return out;
}

function flagName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Rules that join two fields, checked once each field is valid on its own. */
function crossFieldIssues(c: Record<string, unknown>): { field: string; message: string; value?: unknown }[] {
  const issues: { field: string; message: string; value?: unknown }[] = [];
  if (typeof c.redisUrl === 'string' && typeof c.prefix === 'string' && isClusterUrl(c.redisUrl) && !hasHashTag(c.prefix)) {
    issues.push({ field: 'prefix', value: c.prefix, message: "Redis Cluster needs a hash tag in the prefix so that every key of a queue is in one slot: use --prefix '{rb}'" });
  }
  if (Array.isArray(c.gpus) && c.processes !== undefined) {
    issues.push({ field: 'processes', value: c.processes, message: '--gpus already starts one process per GPU: give --gpus or --processes, not both' });
  }
  if (Array.isArray(c.gpus) && new Set(c.gpus).size !== c.gpus.length) {
    issues.push({ field: 'gpus', value: c.gpus.join(','), message: 'a GPU is listed twice' });
  }
  if (c.threadsPerProcess !== undefined && !Array.isArray(c.gpus) && c.processes === undefined) {
    issues.push({ field: 'threadsPerProcess', value: c.threadsPerProcess, message: 'needs --processes or --gpus (a single worker takes --intra-op-threads)' });
  }
  return issues;
}

/**
 * Validates flags over environment over defaults; throws E_CONFIG listing every invalid
 * field as `--flag (ENV_VAR) "value": what is accepted`.
 */
export function parseConfig<S extends z.ZodObject>(schema: S, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Readonly<z.infer<S>> {
  const fields = Object.keys(schema.shape);
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const raw = { ...envValues(fields, env), ...defined };
  const res = schema.safeParse(raw);
  const issues: { field: string; message: string; value?: unknown }[] = res.success
    ? crossFieldIssues(res.data as Record<string, unknown>)
    : res.error.issues.map((i) => ({ field: String(i.path[0] ?? ''), message: i.message }));
  if (issues.length > 0) {
    const lines = issues.map(({ field, message, value }) => {
      const shown = field in raw ? raw[field] : value;
      const given = shown === undefined ? '' : ` "${String(shown)}"`;
      return `  ${flagName(field)} (${envName(field)})${given}: ${message}`;
    });
    throw E.CONFIG(`invalid configuration:\n${lines.join('\n')}`, {
      hint: 'run the command with --help to see every option',
    });
  }
  return Object.freeze(res.data!) as Readonly<z.infer<S>>;
}
