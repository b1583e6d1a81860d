/**
 * One compact marker per finished document: what is left in Redis once a document's result is
 * published and its job (text, metadata) is removed. Markers make a re-enqueue a no-op, let
 * `--skip-unchanged` compare texts, and let `reconcile` tell documents with a result or a
 * recorded failure from lost ones.
 *
 *   <prefix>:<queue>:done           HASH  document id → marker (no expiry)
 *   <prefix>:<queue>:done:<day>     HASH  the same, for jobs enqueued with --keep-done-days:
 *                                         <day> = the UTC day number (days since 1970-01-01) at
 *                                         whose end the hash expires (EXPIREAT)
 *   <prefix>:<queue>:done-days      ZSET  the <day> buckets that exist (score = day)
 *
 * Marker: `<setup fp 8 hex><text fp 16 hex>` for a result (24 characters), `!<code>` for a
 * recorded failure. Why a hash: measured with scripts/marker-memory.mjs on Redis 7.0, 20,000
 * documents with 17-byte ids: one field of one hash 116 B/document with this 24-character value
 * (132 B with 33 characters), one string key per document 141 B, BullMQ's own `deduplication`
 * (a key with a TTL per document, left behind by a completed and removed job) 189-197 B.
 * Redis 7.0 has no per-field expiry, hence the day buckets: a marker lives N to N+1 days.
 */
import type { RedisClient } from './redis.js';

export const doneKey = (prefix: string, queue: string) => `${prefix}:${queue}:done`;
export const doneDayKey = (prefix: string, queue: string, day: number) => `${prefix}:${queue}:done:${day}`;
export const doneDaysKey = (prefix: string, queue: string) => `${prefix}:${queue}:done-days`;

const DAY_MS = 86_400_000;

export const utcDay = (ms = Date.now()) => Math.floor(ms / DAY_MS);

export function okMarker(setupFp: string, textFp: string): string {
  return `${setupFp.slice(0, 8)}${textFp}`;
}

export function failedMarker(code: string): string {
  return `!${code}`;
}

export type Marker = { status: 'ok'; value: string } | { status: 'failed'; code: string };

export function parseMarker(value: string | null | undefined): Marker | undefined {
  if (!value) return undefined;
  if (value.startsWith('!')) return { status: 'failed', code: value.slice(1) };
  return { status: 'ok', value };
}

export interface MarkerWrite {
  docId: string;
  value: string;
  /** 0 or undefined: kept until removed. */
  keepDays?: number;
}

/**
 * Queues the marker writes on `m` (a pipeline or MULTI): one HSET per bucket, its EXPIREAT,
 * and the bucket in the index.
 */
export function addMarkerWrites(m: ReturnType<RedisClient['pipeline']>, prefix: string, queue: string, writes: MarkerWrite[], now = Date.now()): void {
  const byKey = new Map<string, { day?: number; fields: string[] }>();
  for (const w of writes) {
    const day = w.keepDays ? utcDay(now) + w.keepDays : undefined;
    const key = day === undefined ? doneKey(prefix, queue) : doneDayKey(prefix, queue, day);
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { day, fields: [] }));
    e.fields.push(w.docId, w.value);
  }
  for (const [key, e] of byKey) {
    m.hset(key, ...e.fields);
    if (e.day !== undefined) {
      m.expireat(key, (e.day + 1) * (DAY_MS / 1000));
      m.zadd(doneDaysKey(prefix, queue), e.day, String(e.day));
    }
  }
}

/** The keys that may hold markers now: the permanent hash first, then live day buckets, newest first. */
export async function markerKeys(redis: RedisClient, prefix: string, queue: string, now = Date.now()): Promise<string[]> {
  const days = await redis.zrevrangebyscore(doneDaysKey(prefix, queue), '+inf', String(utcDay(now)));
  return [doneKey(prefix, queue), ...days.map((d) => doneDayKey(prefix, queue, Number(d)))];
}

/** The marker of each document id (undefined where none), one pipelined round trip. */
export async function readMarkers(redis: RedisClient, prefix: string, queue: string, docIds: string[]): Promise<(Marker | undefined)[]> {
  if (!docIds.length) return [];
  const keys = await markerKeys(redis, prefix, queue);
  const p = redis.pipeline();
  for (const k of keys) p.hmget(k, ...docIds);
  const res = (await p.exec()) ?? [];
  const out: (Marker | undefined)[] = new Array(docIds.length).fill(undefined);
  for (const [err, values] of res) {
    if (err) throw err;
    (values as (string | null)[]).forEach((v, i) => { out[i] ??= parseMarker(v); });
  }
  return out;
}

/** Removes the markers of these documents in every bucket (HDEL frees memory: allowed when Redis is full). */
export async function deleteMarkers(redis: RedisClient, prefix: string, queue: string, docIds: string[]): Promise<void> {
  if (!docIds.length) return;
  const keys = await markerKeys(redis, prefix, queue);
  const p = redis.pipeline();
  for (const k of keys) p.hdel(k, ...docIds);
  await p.exec();
}

/** Every marker key of a queue (for `run`'s cleanup and tests). */
export async function deleteAllMarkers(redis: RedisClient, prefix: string, queue: string): Promise<void> {
  const days = await redis.zrange(doneDaysKey(prefix, queue), 0, -1);
  await redis.del(doneKey(prefix, queue), doneDaysKey(prefix, queue), ...days.map((d) => doneDayKey(prefix, queue, Number(d))));
}
