/**
 * Configuration: zod schemas built from the flag table (src/shared/flags.ts), read once, frozen.
 * Every field can come from a flag (`--max-batch-size 64`) or an environment variable
 * (`RB_MAX_BATCH_SIZE=64`, plus the conventional `REDIS_URL`); flags win. All invalid fields
 * are reported together, each with the values it accepts.
 */
import { z } from 'zod';
import { E, RobertaBatchError } from './errors.js';
import { ALL_FLAGS, CONNECTION, SCALE_OUT, WORKER, deviceType, entriesOf, envName as rbName, longFlag, schemaOf, type FlagEntries } from './flags.js';
import { hasHashTag, isClusterUrl } from './redis-url.js';

/** `cpu`, `cuda` (= cuda:0), `cuda:N`, `auto` (CUDA if it loads, else CPU), `auto:N`. */
export const deviceSchema = deviceType;

export const connectionSchema = schemaOf(CONNECTION);

export const workerSchema = schemaOf({ ...CONNECTION, ...WORKER });

export type WorkerConfig = z.infer<typeof workerSchema>;

export const scaleOutSchema = schemaOf(SCALE_OUT);

export type ScaleOutConfig = z.infer<typeof scaleOutSchema>;

/** The environment variable of a field (src/shared/flags.ts): RB_SNAKE_CASE, or a usual name such as REDIS_URL. */
export function envName(field: string): string {
  return ALL_FLAGS[field]?.env ?? rbName(field);
}

/** The table entries of a schema's fields (those of schemas built elsewhere by field name). */
function tableOf(schema: z.ZodObject): FlagEntries {
  return entriesOf(schema) ?? Object.fromEntries(Object.keys(schema.shape).map((f) => [f, ALL_FLAGS[f] ?? { field: f, flag: `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, env: rbName(f), type: z.unknown(), help: '' }]));
}

/** The values of the fields' variables; a field without a variable (the tools' own flags) reads none. */
export function envValues(table: FlagEntries, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [f, e] of Object.entries(table)) {
    const v = e.env ? env[e.env] : undefined;
    if (v !== undefined && v !== '') out[f] = v;
  }
  return out;
}

/** The fields given by a flag or a variable rather than defaulted (`run` uses its own queue unless one is named). */
export function givenFields(schema: z.ZodObject, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ReadonlySet<string> {
  const table = tableOf(schema);
  return new Set([...Object.keys(envValues(table, env)), ...Object.keys(flags).filter((f) => f in table && flags[f] !== undefined)]);
}

/** `--max-batch-size (RB_MAX_BATCH_SIZE)`, or the flag alone when it has no variable. */
export function describeField(table: FlagEntries, field: string): string {
  const e = table[field] ?? ALL_FLAGS[field];
  if (!e) return field;
  return e.env ? `${longFlag(e)} (${e.env})` : longFlag(e);
}

/** E_CONFIG listing each problem as `--flag (ENV_VAR) "value": what is accepted`, exit 2. */
export function configError(lines: string[]): RobertaBatchError {
  return E.CONFIG(`invalid configuration:\n${lines.map((l) => `  ${l}`).join('\n')}`, {
    hint: 'run the command with --help to see every option',
  });
}

/** Rules that join two fields, checked once each field is valid on its own. */
function crossFieldIssues(c: Record<string, unknown>): { field: string; message: string; value?: unknown }[] {
  const issues: { field: string; message: string; value?: unknown }[] = [];
  if (typeof c.redisUrl === 'string' && typeof c.prefix === 'string' && isClusterUrl(c.redisUrl) && !hasHashTag(c.prefix)) {
    issues.push({ field: 'prefix', value: c.prefix, message: "Redis Cluster needs a hash tag in the prefix so that every key of a queue is in one slot: use --prefix '{rb}'" });
  }
  if (Array.isArray(c.gpus) && c.processes !== undefined) {
    issues.push({ field: 'processes', value: c.processes, message: '--gpus already starts one process per GPU: give --gpus or --processes, not both (--processes-per-gpu n runs n on each GPU)' });
  }
  if (Array.isArray(c.gpus) && new Set(c.gpus).size !== c.gpus.length) {
    issues.push({ field: 'gpus', value: c.gpus.join(','), message: 'a GPU is listed twice' });
  }
  if (c.processesPerGpu !== undefined && !Array.isArray(c.gpus)) {
    issues.push({ field: 'processesPerGpu', value: c.processesPerGpu, message: 'needs --gpus (CPU hosts: --processes N)' });
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
  const table = tableOf(schema);
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const raw: Record<string, unknown> = { ...envValues(table, env), ...defined };
  const res = schema.safeParse(raw);
  const issues: { field: string; message: string; value?: unknown }[] = res.success
    ? crossFieldIssues(res.data as Record<string, unknown>)
    : res.error.issues.map((i) => ({ field: String(i.path[0] ?? ''), message: i.message }));
  if (issues.length > 0) {
    throw configError(issues.map(({ field, message, value }) => {
      const shown = field in raw ? raw[field] : value;
      const given = shown === undefined ? '' : ` "${String(shown)}"`;
      return `${describeField(table, field)}${given}: ${message}`;
    }));
  }
  return Object.freeze(res.data!) as Readonly<z.infer<S>>;
}
