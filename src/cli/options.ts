/**
 * What every command body shares: the table's commander options (./flag-options.ts), running a
 * body with exit codes, and the reader options of a validated configuration.
 */
import { RobertaBatchError, errorMessage, exitCodeOf } from '../shared/errors.js';
import { hasBeforeExitHooks, runBeforeExitHooks } from '../shared/exit-hooks.js';
import { logger } from '../shared/logger.js';
import type { InputConfig } from '../producer/options.js';
import type { InputEncoding, InputFormatOption, ReaderOptions } from '../producer/readers.js';

export { addFlags, entryOfOption, exitTwoOnUsageErrors, pick, tableOption } from './flag-options.js';

/**
 * Runs a command body: errors print as `E_CODE: message — hint` without a stack trace (and
 * without a library's error object, which may hold the Redis password in the failed AUTH);
 * the exit code is the catalogue's (2 for invalid configuration, 1 for everything else).
 */
export async function runCommand(body: () => Promise<number | void>): Promise<never> {
  let code: number;
  try {
    code = (await body()) ?? 0;
  } catch (err) {
    if (err instanceof RobertaBatchError) process.stderr.write(`${err.describe()}\n`);
    // A bug, not an operational state: the stack helps a report, only on request (--verbose).
    else process.stderr.write(`error: ${errorMessage(err)}\n${logger().isLevelEnabled('debug') ? `${(err as Error)?.stack ?? ''}\n` : '(run with --verbose for the stack trace)\n'}`);
    code = exitCodeOf(err);
  }
  // Inference threads close first (shared/exit-hooks.ts); no extra await when there is none.
  if (hasBeforeExitHooks()) await runBeforeExitHooks();
  logger().flush?.();
  process.exit(code);
}

/** Commander's parsed options restricted to a schema's fields (also a validated config: `pick(c, workerSchema.shape)`). */
export function only<T extends Record<string, unknown>>(c: Readonly<T>, fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(fields).filter((f) => c[f] !== undefined).map((f) => [f, c[f]]));
}

/** Reader options (plus --max-job-bytes) of `run` and `eval` from their validated configuration: the same as `enqueue`'s. */
export function readerOptions(c: InputConfig): ReaderOptions & { maxJobBytes: number } {
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
