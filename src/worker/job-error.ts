/**
 * How a processor's error reaches BullMQ. Here, not in shared/errors.ts, so that the error
 * catalogue, which every command imports, does not load BullMQ (~0.2 s of CPU per process
 * start, `--version` and `--help` included).
 */
import { UnrecoverableError } from 'bullmq';
import { DocumentError, RobertaBatchError, encodeFailedReason } from '../shared/errors.js';

/**
 * The error a BullMQ processor throws for `err`, with the code encoded in the message. A
 * document's own failure (DocumentError: already recorded as its result) becomes BullMQ's
 * UnrecoverableError so the job fails at once instead of burning its attempts; every other
 * error keeps the job's attempts (the worker records its documents on the last one).
 */
export function toJobError(err: unknown): unknown {
  if (!(err instanceof RobertaBatchError)) return err;
  if (err instanceof DocumentError) return new UnrecoverableError(encodeFailedReason(err.code, err.reason));
  return new Error(encodeFailedReason(err.code, err.message), { cause: err });
}
