#!/usr/bin/env node
/**
 * Redis bytes per finished document for the ways a "this document is done" record can be kept,
 * measured on a private redis-server (used_memory before and after, divided by documents):
 *   bullmq-dedup   BullMQ's own `deduplication: { id, ttl }` (one string key per document with a TTL,
 *                  left behind by a completed and removed job)
 *   string-keys    one string key per document <prefix>:<queue>:fp:<id> = "<setup>:<text>" (the old
 *                  --skip-unchanged fingerprints)
 *   hash-field     one field per document in one hash <prefix>:<queue>:done, value "<setup>:<text>"
 *   hash-field-24  the same with the 24-character marker roberta-batch writes (src/shared/done-markers.ts)
 * Usage: node scripts/marker-memory.mjs [documents=20000]
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisServer } from '../dist/pipeline/redis-server.js';

const n = Number(process.argv[2] ?? 20_000);
const server = await RedisServer.start({ dirPrefix: 'rb-marker-' });
const { port } = server;
try {
  const redis = new Redis({ port, maxRetriesPerRequest: null });
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
  const ids = Array.from({ length: n }, (_, i) => `rt-polarity:${i}`);
  const value = 'a1b2c3d4e5f60718:0f1e2d3c4b5a6978';
  const rows = [];
  const measure = async (name, fn) => {
    await redis.flushall();
    const before = await used();
    await fn();
    const after = await used();
    rows.push({ name, bytesPerDoc: Math.round((after - before) / n) });
  };
  await measure('bullmq-dedup', async () => {
    const connection = { port, maxRetriesPerRequest: null };
    const q = new Queue('m', { connection, streams: { events: { maxLen: 0 } } });
    for (let i = 0; i < n; i += 1000) {
      await q.addBulk(ids.slice(i, i + 1000).map((id) => ({ name: 'docs', data: {}, opts: { removeOnComplete: true, deduplication: { id, ttl: 30 * 86_400_000 } } })));
    }
    const w = new Worker('m', async () => undefined, { connection, concurrency: 100 });
    while ((await q.getJobCounts('wait', 'active')).wait + (await q.getJobCounts('active')).active > 0) await new Promise((r) => setTimeout(r, 100));
    await w.close();
    await q.close();
    // Queue bookkeeping (meta, id counter, events) is not per document: leave only the dedup keys.
    const keep = await redis.keys('bull:m:de:*');
    const all = await redis.keys('*');
    const drop = all.filter((k) => !keep.includes(k));
    if (drop.length) await redis.del(...drop);
  });
  await measure('string-keys', async () => {
    for (let i = 0; i < n; i += 1000) {
      const p = redis.pipeline();
      for (const id of ids.slice(i, i + 1000)) p.set(`bull:m:fp:${id}`, value);
      await p.exec();
    }
  });
  await measure('hash-field', async () => {
    for (let i = 0; i < n; i += 1000) {
      await redis.hset('bull:m:done', Object.fromEntries(ids.slice(i, i + 1000).map((id) => [id, value])));
    }
  });
  await measure('hash-field-24', async () => {
    for (let i = 0; i < n; i += 1000) {
      await redis.hset('bull:m:done', Object.fromEntries(ids.slice(i, i + 1000).map((id) => [id, value.replace(':', '').slice(8)])));
    }
  });
  await redis.quit();
  console.log(JSON.stringify({ documents: n, idBytes: ids[n - 1].length, redis: 'private redis-server, used_memory delta / documents', rows }, null, 1));
} finally {
  await server.stop();
}
