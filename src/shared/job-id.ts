/**
 * BullMQ job ids for documents and packs.
 *
 * BullMQ 6 refuses two kinds of custom job id (Job.validateOptions, bullmq/src/classes/job.ts):
 * - integer-like strings (`${parseInt(id, 10)}` === id, e.g. "17", "-3"): they would clash with
 *   BullMQ's own counter ids;
 * - ids containing ':' (except the legacy 3-part repeatable form), since ':' separates Redis
 *   key parts.
 * Document ids such as `reviews.txt:17` or numeric CSV ids are common, so instead of refusing
 * them the job id is the document id percent-escaped where BullMQ needs it: '%' → %25,
 * ':' → %3A, and the first character of an integer-like id is escaped ("17" → "%317").
 * The mapping is injective (decodeURIComponent gives the document id back), so distinct
 * documents never share a job, and stable, so re-enqueueing a document is a no-op.
 * Workers read document ids from the job data, never from the job id.
 */
import { createHash } from 'node:crypto';

/** Longest document id accepted, in UTF-8 bytes: ids become Redis keys. */
export const MAX_ID_BYTES = 1024;

function isIntegerLike(id: string): boolean {
  return `${parseInt(id, 10)}` === id;
}

function escapeChar(c: string): string {
  return Array.from(Buffer.from(c, 'utf8'), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

export function jobIdForDocument(docId: string): string {
  let id = docId.includes('%') || docId.includes(':') ? docId.replace(/[%:]/g, escapeChar) : docId;
  if (isIntegerLike(id)) id = escapeChar(id[0]) + id.slice(1);
  return id;
}

export function documentIdFromJobId(jobId: string): string {
  return decodeURIComponent(jobId);
}

/**
 * A pack of documents (--docs-per-job > 1): `pack-<sha1 of the ids>`, so enqueueing the same
 * file with the same packing is a no-op too. Dedup is then per pack: a document re-enqueued in
 * a different pack (other --docs-per-job, edited file) is a new job.
 */
export function jobIdForPack(docIds: readonly string[]): string {
  const h = createHash('sha1');
  // Length-prefixed: ids may contain any character, a separator could be ambiguous.
  for (const id of docIds) h.update(`${Buffer.byteLength(id, 'utf8')}:`).update(id);
  return `pack-${h.digest('hex')}`;
}

/** Why BullMQ or Redis cannot take this id, or undefined when it can. */
export function invalidIdReason(docId: string): string | undefined {
  if (docId.length === 0) return 'the id is empty';
  if (Buffer.byteLength(docId, 'utf8') > MAX_ID_BYTES) return `the id is longer than ${MAX_ID_BYTES} bytes`;
  return undefined;
}
