/**
 * The `enqueue` configuration: flags over RB_* environment variables over these defaults,
 * validated once by parseConfig (src/shared/config.ts), every invalid field reported together.
 */
import type { z } from 'zod';
// The table's default, not ENQUEUE_DEFAULTS: importing enqueue.js here would load BullMQ for `enqueue --help`.
import { CONNECTION, INPUT, PACKED_DOCS_PER_JOB, PRODUCER, schemaOf } from '../shared/flags.js';
import type { EnqueueFileOptions } from './enqueue.js';

const { resultsQueue: _results, ...PRODUCER_CONNECTION } = CONNECTION;

/** Every `enqueue` option but the results queue, which the producer never writes. */
export const ENQUEUE_OPTIONS = { ...INPUT, ...PRODUCER_CONNECTION, ...PRODUCER };

export const enqueueSchema = schemaOf(ENQUEUE_OPTIONS);

export type EnqueueConfig = z.infer<typeof enqueueSchema>;

/** The library options for a validated configuration (the encoding is already normalised). */
export function toEnqueueFileOptions(c: EnqueueConfig, input?: string): EnqueueFileOptions {
  const { fingerprintTtlDays, keepDoneDays, ...rest } = c;
  const docsPerJob = c.docsPerJob ?? (c.skipUnchanged ? 1 : PACKED_DOCS_PER_JOB);
  return { ...rest, docsPerJob, encoding: c.encoding as 'utf8' | 'latin1', keepDoneDays: keepDoneDays || fingerprintTtlDays || 0, inputLabel: input };
}

/**
 * The input options every command that reads a file takes (`enqueue`, `run`, `eval`): the same
 * flags, RB_* variables, defaults and validation, so RB_ENCODING=latin1 means the same everywhere.
 */
export const inputSchema = schemaOf(INPUT);

export type InputConfig = z.infer<typeof inputSchema>;
