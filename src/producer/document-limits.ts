/**
 * What the producer refuses before a document reaches Redis: an id BullMQ cannot use, a text
 * over `maxDocBytes` (1 MiB) and a job over `maxJobBytes` (2 MiB). The user gets the line to
 * fix, and a worker never receives a document it would only fail.
 */
import type { DocumentInput } from '../shared/types.js';
import type { RejectedLine } from './errors-file.js';
import { invalidIdReason } from '../shared/job-id.js';
import { utf8Bytes } from './packer.js';

export interface DocumentLimits {
  maxDocBytes: number;
  maxJobBytes: number;
  /** Bytes every job costs over its documents (Packer.overhead). */
  jobOverhead: number;
}

/** The rejected line, or the document's JSON size for the packer. */
export function checkDocument(lineNo: number, doc: DocumentInput, limits: DocumentLimits): { rejected: RejectedLine } | { docBytes: number } {
  const bad = typeof doc.id !== 'string' ? 'the id is not a string' : invalidIdReason(doc.id);
  if (bad) return { rejected: { lineNo, code: 'E_INPUT_INVALID', message: `line ${lineNo}: ${bad}` } };
  if (typeof doc.text === 'string') {
    const textBytes = utf8Bytes(doc.text);
    if (textBytes > limits.maxDocBytes) {
      return { rejected: { lineNo, code: 'E_INPUT_TOO_LARGE', message: `line ${lineNo}: text is ${textBytes} bytes, over the ${limits.maxDocBytes}-byte document limit (--max-doc-bytes)`, id: doc.id } };
    }
  }
  const docBytes = utf8Bytes(JSON.stringify(doc));
  const jobBytes = limits.jobOverhead + docBytes;
  if (jobBytes > limits.maxJobBytes) {
    return { rejected: { lineNo, code: 'E_INPUT_TOO_LARGE', message: `line ${lineNo}: job payload is ${jobBytes} bytes, over the ${limits.maxJobBytes}-byte job limit (--max-job-bytes)`, id: doc.id } };
  }
  return { docBytes };
}
