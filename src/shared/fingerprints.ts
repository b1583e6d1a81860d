/**
 * Fingerprints for incremental runs (`enqueue --skip-unchanged`): a document is skipped when
 * the result stored for its id was computed from the same text by the same model setup.
 *
 *   <prefix>:<queue>:fp-config      STRING  the workers' setup fingerprint C (model sha256, task,
 *                                           pooling, normalisation, long-doc mode, max length)
 *   <prefix>:<queue>:fp:<jobId>     STRING  "<C>:<T>", T = fingerprint of the text; optional TTL
 *
 * Workers write "<C>:<T>" after a document's result is in the results queue, only for jobs
 * enqueued with --skip-unchanged (so queues that never use it pay nothing). 16 hex digits of
 * sha256 each (64 bits: a false "unchanged" needs a collision among ~4e9 texts per id).
 * Memory: MEMORY USAGE on Redis 7.0 reports 136 bytes for one document whose key is
 * `bull:incremental-xxxxxxxx:fp:night-17` (37 bytes): about 100 bytes + the key length
 * (see docs/INCREMENTAL.md).
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis.js';

export interface SetupIdentity {
  modelSha256: string;
  task: string;
  pooling: string;
  normalize: boolean;
  longDocs: string;
  maxLength: number;
  chunkOverlap: number;
}

const h16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

export function setupFingerprint(s: SetupIdentity): string {
  // Pooling and normalisation only change embeddings; chunk overlap only matters when chunking.
  const parts = [s.modelSha256, s.task, s.task === 'embed' ? `${s.pooling}/${s.normalize}` : '-', s.longDocs, String(s.maxLength), s.longDocs === 'chunk' ? String(s.chunkOverlap) : '-'];
  return h16(parts.join('\u0000'));
}

export function textFingerprint(text: string): string {
  return h16(text);
}

export const setupKey = (prefix: string, queue: string) => `${prefix}:${queue}:fp-config`;
export const fingerprintKey = (prefix: string, queue: string, jobId: string) => `${prefix}:${queue}:fp:${jobId}`;

export async function readFingerprints(redis: RedisClient, prefix: string, queue: string, jobIds: string[]): Promise<(string | null)[]> {
  if (!jobIds.length) return [];
  return redis.mget(jobIds.map((id) => fingerprintKey(prefix, queue, id)));
}
