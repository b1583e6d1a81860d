#!/usr/bin/env node
/**
 * Redis bytes per document in each state, measured on a private redis-server (used_memory delta
 * divided by documents, BullMQ's scripts loaded before the first measurement):
 *   waiting     document jobs not yet taken (text + metadata), 1 and 64 documents per job
 *   results     result jobs not yet exported: sentiment and 768-dim embedding records, 1 and 64 per job
 *   finished    one marker per document (what stays after the export)
 * Documents: rt-polarity from ../shared if present, else the sample reviews. Usage:
 *   node scripts/redis-sizing.mjs [documents=5000]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisServer } from '../dist/pipeline/redis-server.js';
import { loadCorpus } from '../dist/bench/corpus.js';
import { enqueueDocuments } from '../dist/producer/enqueue.js';
import { ResultsPublisher } from '../dist/worker/results-publisher.js';
import { bullConnection } from '../dist/shared/redis.js';
import { okMarker } from '../dist/shared/done-markers.js';
import { textFingerprint } from '../dist/shared/fingerprints.js';

const n = Number(process.argv[2] ?? 5000);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = loadCorpus(repo, n);
const server = await RedisServer.start({ dirPrefix: 'rb-sizing-' });
const { port, url } = server;
const rows = [];
try {
  const redis = new Redis({ port, maxRetriesPerRequest: null });
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
  const measure = async (state, what, fn) => {
    await redis.flushall();
    const before = await used();
    await fn();
    rows.push({ state, what, bytesPerDoc: Math.round((await used() - before) / n) });
  };
  const rnd = (() => { let x = 7; return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; }; })();
  const record = (d, task) => {
    const base = { v: 1, status: 'ok', id: d.id, runId: 'run-20261202-020000-ab12', model: { name: 'roberta-base-11', sha256: 'a'.repeat(64) }, task,
      workerId: 'worker-1', finishedAt: new Date().toISOString(), tokenCount: 27, truncated: false, windows: 1, batchSize: 64,
      timings: { endToEndMs: 812, batchWaitMs: 3, inferenceMs: 41 } };
    if (task === 'sentiment') return { ...base, sentiment: { label: 'positive', score: 0.9312, logits: Array.from(Float32Array.of(rnd() * 4 - 2, rnd() * 4 - 2)) } };
    return { ...base, embedding: { embedding: Array.from(Float32Array.from({ length: 768 }, () => rnd() * 2 - 1)), pooling: 'mean', normalized: false } };
  };
  // Load BullMQ's scripts once (a fixed ~1 MB per Redis, not per document).
  await enqueueDocuments(corpus.docs.slice(0, 10).map((d) => ({ ...d, id: `warm-${d.id}` })), { redisUrl: url, queue: 'warm' });
  for (const perJob of [1, 64]) {
    await measure('waiting', `document jobs, ${perJob} per job`, () => enqueueDocuments(corpus.docs, { redisUrl: url, queue: 'q', docsPerJob: perJob, logger: undefined }));
  }
  for (const task of ['sentiment', 'embed']) {
    for (const perJob of [1, 64]) {
      await measure('results', `${task === 'embed' ? '768-dim embedding' : 'sentiment'} result jobs, ${perJob} records per job`, async () => {
        const p = new ResultsPublisher('q-results', bullConnection(url), 'bull');
        const all = [];
        for (let i = 0; i < n; i += perJob) all.push(p.publish(`job-${i}`, corpus.docs.slice(i, i + perJob).map((d) => record(d, task))));
        await Promise.all(all);
        await p.close();
      });
    }
  }
  await measure('finished', 'one marker per document', async () => {
    for (let i = 0; i < n; i += 1000) {
      await redis.hset('bull:q:done', Object.fromEntries(corpus.docs.slice(i, i + 1000).map((d) => [d.id, okMarker('0123456789abcdef', textFingerprint(d.text))])));
    }
  });
  await redis.quit();
  console.log(JSON.stringify({ documents: n, corpus: corpus.description, ids: `${corpus.docs[0].id} .. ${corpus.docs[n - 1].id}`, rows }, null, 1));
} finally {
  await server.stop();
}
