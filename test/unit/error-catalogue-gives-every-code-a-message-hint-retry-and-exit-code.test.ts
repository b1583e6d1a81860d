/**
 * Every code of the catalogue says what it means, what to do, whether trying again helps and
 * how a command exits on it; its factory builds an error with those facts; the failedReason
 * encoding (the only place a code travels inside a string) reads back what it wrote.
 */
import { readFileSync } from 'node:fs';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, DocumentError, E, RobertaBatchError, decodeFailedReason, encodeFailedReason, exitCodeOf, type ErrorCode } from '../../src/shared/errors.js';
import { toJobError } from '../../src/worker/job-error.js';

const codes = Object.keys(CATALOGUE) as ErrorCode[];

describe('error catalogue', () => {
  it('gives every code a summary, a hint, retryable and an exit code, and a factory', () => {
    expect(codes.length).toBeGreaterThan(25);
    for (const code of codes) {
      const c = CATALOGUE[code];
      expect(c.summary, code).toMatch(/\w{3}/);
      expect(c.hint, code).toMatch(/\w{3}/);
      expect(typeof c.retryable, code).toBe('boolean');
      expect(c.exitCode, code).toBe(code === 'E_CONFIG' ? 2 : 1);
      const factory = (E as unknown as Record<string, (m: string) => RobertaBatchError>)[code.slice(2)];
      expect(typeof factory, code).toBe('function');
    }
  });

  it('builds errors that carry the catalogue entry; a call site may give a better hint', () => {
    const e = E.CONFIG('--workers "abc": expected an integer >= 1');
    expect(e).toBeInstanceOf(RobertaBatchError);
    expect(e).toMatchObject({ code: 'E_CONFIG', retryable: false, exitCode: 2, hint: CATALOGUE.E_CONFIG.hint });
    expect(exitCodeOf(e)).toBe(2);
    expect(exitCodeOf(E.OUTPUT_WRITE('cannot write x'))).toBe(1);
    expect(exitCodeOf(new Error('a bug'))).toBe(1);
    expect(E.REDIS_AUTH('refused', { hint: 'check the ACL user' }).hint).toBe('check the ACL user');
    expect(E.MODEL_LOAD('/m/model.onnx', new Error('No op NoSuchOp\nstack...'))).toMatchObject({
      code: 'E_MODEL_LOAD', exitCode: 1, message: 'onnxruntime cannot load /m/model.onnx: No op NoSuchOp', context: { file: '/m/model.onnx' },
    });
  });

  it('keeps infrastructure give-ups retryable and a poison document not', () => {
    expect(E.INFERENCE('inference thread exited with code 1').retryable).toBe(true);
    expect(E.SHUTDOWN('closing').retryable).toBe(true);
    const poison = E.DOCUMENT_INFERENCE(new Error('indices element out of data bounds'));
    expect(poison).toBeInstanceOf(DocumentError);
    expect(poison).toMatchObject({ code: 'E_DOCUMENT_INFERENCE', retryable: false, reason: 'the model failed on this document alone: indices element out of data bounds' });
  });

  it('encodes the code in failedReason and decodes it back; unknown prefixes stay reasons', () => {
    expect(decodeFailedReason(encodeFailedReason('E_INPUT_TOO_LARGE', 'text is 9 bytes'))).toEqual({ code: 'E_INPUT_TOO_LARGE', reason: 'text is 9 bytes' });
    expect(decodeFailedReason('job stalled more than allowable limit')).toEqual({ code: undefined, reason: 'job stalled more than allowable limit' });
    expect(decodeFailedReason('E_NOT_A_CODE: x')).toEqual({ code: undefined, reason: 'E_NOT_A_CODE: x' });
    expect(decodeFailedReason(undefined)).toEqual({ code: undefined, reason: '' });
  });

  it("turns errors into BullMQ job errors: a document's failure is UnrecoverableError, the code in the message", () => {
    const doc = toJobError(E.document('E_INPUT_INVALID', 'text is empty'));
    expect(doc).toBeInstanceOf(UnrecoverableError);
    expect((doc as Error).message).toBe('E_INPUT_INVALID: text is empty');
    const infra = toJobError(E.INFERENCE('inference thread crashed: boom'));
    expect(infra).not.toBeInstanceOf(UnrecoverableError);
    expect((infra as Error).message).toBe('E_INFERENCE: inference thread crashed: boom');
    // Not the document's: the job keeps its attempts, as for any error.
    expect(toJobError(E.MODEL_TASK_MISMATCH('no pooled output'))).not.toBeInstanceOf(UnrecoverableError);
    const bug = new TypeError('x is undefined');
    expect(toJobError(bug)).toBe(bug);
  });
});

it('docs/ERRORS.md lists every code with its retryable and exit code', () => {
  const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
  for (const code of codes) {
    const c = CATALOGUE[code];
    expect(doc, code).toContain(`| \`${code}\` | ${c.summary.replace(/\|/g, '\\|')} | ${c.retryable ? 'yes' : 'no'} | ${c.exitCode} |`);
  }
});
