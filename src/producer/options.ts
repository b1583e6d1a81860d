/**
 * The `enqueue` configuration: flags over RB_* environment variables over these defaults,
 * validated once by parseConfig (src/shared/config.ts), every invalid field reported together.
 */
import { z } from 'zod';
import { connectionSchema } from '../shared/config.js';
import { ENQUEUE_DEFAULTS } from './enqueue.js';
import type { EnqueueFileOptions } from './enqueue.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return z.coerce
    .number({ error: `expected ${range}` })
    .int({ error: `expected ${range}` })
    .min(min, { error: `expected ${range}` })
    .max(max, { error: `expected ${range}` });
};
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])], { error: 'expected true or false' })
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const ENCODINGS: Record<string, 'utf8' | 'latin1'> = { utf8: 'utf8', 'utf-8': 'utf8', latin1: 'latin1', 'latin-1': 'latin1', 'iso-8859-1': 'latin1' };

export const enqueueSchema = connectionSchema.omit({ resultsQueue: true }).extend({
  format: z.enum(['auto', 'jsonl', 'csv', 'text'], { error: 'expected auto, jsonl, csv or text' }).default('auto'),
  idField: z.string().min(1, { error: 'expected a field name' }).default('id'),
  textField: z.string().min(1, { error: 'expected a field name' }).default('text'),
  autoId: bool.default(false),
  idPrefix: z.string().min(1, { error: 'expected a non-empty prefix' }).optional(),
  encoding: z
    .string()
    .transform((s) => ENCODINGS[s.toLowerCase()])
    .refine((v) => v !== undefined, { error: 'expected utf8 or latin1' })
    .default('utf8'),
  chunkSize: int(1, 100_000).default(ENQUEUE_DEFAULTS.chunkSize),
  maxWaiting: int(0).default(ENQUEUE_DEFAULTS.maxWaiting),
  // Unset: ENQUEUE_DEFAULTS.fileDocsPerJob, or 1 with --skip-unchanged (toEnqueueFileOptions).
  docsPerJob: int(1, 100_000).optional(),
  runId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, { error: 'expected 1-100 letters, digits, . _ or -' }).optional(),
  maxDocBytes: int(1).default(ENQUEUE_DEFAULTS.maxDocBytes),
  // Under 1 KiB even a one-word document with its runId would not fit.
  maxJobBytes: int(1024).default(ENQUEUE_DEFAULTS.maxJobBytes),
  strict: bool.default(false),
  errorsOut: z.string().min(1, { error: 'expected a file path' }).optional(),
  skipUnchanged: bool.default(false),
  keepDoneDays: int(0, 36_500).default(0),
  /** Older name of keepDoneDays (fingerprints are now the finished documents' markers). */
  fingerprintTtlDays: int(0, 36_500).optional(),
});

export type EnqueueConfig = z.infer<typeof enqueueSchema>;

/** The library options for a validated configuration (the encoding is already normalised). */
export function toEnqueueFileOptions(c: EnqueueConfig, input?: string): EnqueueFileOptions {
  const { fingerprintTtlDays, keepDoneDays, ...rest } = c;
  const docsPerJob = c.docsPerJob ?? (c.skipUnchanged ? 1 : ENQUEUE_DEFAULTS.fileDocsPerJob);
  return { ...rest, docsPerJob, encoding: c.encoding as 'utf8' | 'latin1', keepDoneDays: keepDoneDays || fingerprintTtlDays || 0, inputLabel: input };
}

/**
 * The input options every command that reads a file takes (`enqueue`, `run`, `eval`): the same
 * flags, RB_* variables, defaults and validation, so RB_ENCODING=latin1 means the same everywhere.
 */
export const inputSchema = enqueueSchema.pick({ format: true, idField: true, textField: true, autoId: true, idPrefix: true, encoding: true, maxJobBytes: true });

export type InputConfig = z.infer<typeof inputSchema>;
