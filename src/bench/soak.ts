/**
 * The soak: does Redis stay bounded by the backlog, not by history? `documents` documents
 * (rt-polarity reviews from ../shared cycled with unique ids, else generated text) go through
 * the normal producer (back-pressure --max-waiting, packed jobs), one worker process and an
 * exporter following it, on a private redis-server with `maxmemory` and noeviction. Reports
 * peak used_memory, Redis bytes per document at the end (used_memory delta from before the run
 * / documents), docs/s, and checks from the output file that every id was exported exactly
 * once. The model is made nearly free (a 1-layer graph of hidden size 8 from the project's
 * generator), so the pipeline and Redis are what is measured.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { PRESETS } from '../model/config.js';
import { generateModel } from '../model/generate.js';
import type { ReadItem } from '../producer/document.js';
import { DocumentProducer, type EnqueueSummary } from '../producer/enqueue.js';
import { ResultsExporter } from '../exporter/results-exporter.js';
import { WorkerFleet } from '../chaos/fleet.js';
import { RedisServer } from '../pipeline/redis-server.js';
import { loadCorpus } from './corpus.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface SoakOptions {
  documents: number;
  /** redis-server maxmemory, e.g. "256mb". */
  maxmemory: string;
  docsPerJob: number;
  /** Producer back-pressure, in jobs. */
  maxWaiting: number;
  onProgress?: (line: string) => void;
}

export const SOAK_FULL: SoakOptions = { documents: 1_000_000, maxmemory: '256mb', docsPerJob: 64, maxWaiting: 200 };
export const SOAK_SHORT: SoakOptions = { documents: 20_000, maxmemory: '16mb', docsPerJob: 64, maxWaiting: 20 };

export interface SoakReport {
  ok: boolean;
  failures: string[];
  documents: number;
  corpus: string;
  maxmemoryBytes: number;
  usedMemoryBefore: number;
  peakUsedMemory: number;
  usedMemoryAfter: number;
  /** (after - before) / documents. */
  bytesPerDocumentAtEnd: number;
  elapsedSeconds: number;
  docsPerSecond: number;
  exported: number;
  duplicates: number;
  missing: number;
  redisOomRefusals: number;
  enqueue: EnqueueSummary;
}

const usedMemory = async (r: Redis) => Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const say = o.onProgress ?? (() => {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-soak-'));
  const corpus = loadCorpus(REPO, 10_662);
  const texts = [...new Set(corpus.docs.map((d) => d.text))];
  const tokenizerDir = corpus.tokenizerDir;
  const vocabSize = corpus.source === 'rt-polarity' ? PRESETS.tiny.vocabSize : 1024;
  const model = path.join(REPO, 'models/cache/bench', `soak-l1-h8-v${vocabSize}.onnx`);
  await generateModel({
    config: { ...PRESETS.tiny, vocabSize, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16 },
    head: 'sequence-classification', signature: 'hf', seed: 3, out: model,
  });
  const redis = await RedisServer.start({ args: ['--maxmemory', o.maxmemory], dirPrefix: 'rb-soak-redis-' });
  const admin = new Redis({ port: redis.port, maxRetriesPerRequest: null });
  admin.on('error', () => {});
  const queue = 'soak';
  const out = path.join(dir, 'out.jsonl');
  // 16 packed jobs in flight (1,024 documents, 16 batches of 64): the default window of
  // 32 x max-batch-size jobs would hold 131,072 packed documents, which the batcher scans per batch.
  const fleet = new WorkerFleet(['--queue', queue, '--model', model, '--tokenizer', tokenizerDir, '--metrics-port', '0', '--skip-hash', '--intra-op-threads', '1',
    '--concurrency', '16'], { REDIS_URL: redis.url, LOG_LEVEL: 'info' });
  const exporter = new ResultsExporter({ redisUrl: redis.url, queue, prefix: 'bull', out });
  let peak = 0;
  let sampling: NodeJS.Timeout | undefined;
  try {
    const maxmemoryBytes = Number((await admin.config('GET', 'maxmemory') as string[])[1]);
    const before = await usedMemory(admin);
    peak = before;
    sampling = setInterval(() => { void usedMemory(admin).then((u) => { peak = Math.max(peak, u); }, () => undefined); }, 250);
    say(`redis ${redis.url} maxmemory ${o.maxmemory} noeviction; ${o.documents} documents (${corpus.description}), ${o.docsPerJob} per job, --max-waiting ${o.maxWaiting} jobs`);
    const t0 = performance.now();
    fleet.spawn();
    await Promise.all(fleet.live.map((w) => w.ready));
    await exporter.start();
    let lastSay = 0;
    exporter.onRecord = () => {
      const now = performance.now();
      if (now - lastSay > 10_000) {
        lastSay = now;
        say(`${exporter.exported} exported, ${Math.round(exporter.exported / ((now - t0) / 1000))} docs/s, peak used_memory ${peak}`);
      }
    };
    async function* items(): AsyncGenerator<ReadItem> {
      for (let i = 0; i < o.documents; i++) yield { lineNo: i + 1, doc: { id: `soak-${i}`, text: texts[i % texts.length] } };
    }
    const producer = new DocumentProducer({ redisUrl: redis.url, queue, docsPerJob: o.docsPerJob, maxWaiting: o.maxWaiting, backpressurePollMs: 50,
      // Back-pressure is checked before each addBulk: chunks of a quarter of the allowance keep the backlog near it.
      chunkSize: Math.max(1, Math.ceil(o.maxWaiting / 4)) });
    let enqueue: EnqueueSummary;
    try {
      await producer.open();
      enqueue = await producer.enqueue(items());
    } finally {
      await producer.close();
    }
    await exporter.waitForCount(o.documents);
    const elapsedSeconds = (performance.now() - t0) / 1000;
    await exporter.waitUntilDrained();
    await exporter.close();
    await fleet.stopAll();
    clearInterval(sampling);
    sampling = undefined;
    const after = await usedMemory(admin);

    // Exactly once, from the file itself.
    const count = new Uint8Array(o.documents);
    let duplicates = 0;
    let exported = 0;
    const rl = readline.createInterface({ input: createReadStream(out), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line) continue;
      const m = /"id":"soak-(\d+)"/.exec(line);
      if (!m) continue;
      exported++;
      if (count[Number(m[1])]++) duplicates++;
    }
    const missing = count.reduce((a, c) => a + (c === 0 ? 1 : 0), 0);
    const failures: string[] = [];
    if (duplicates) failures.push(`${duplicates} ids exported more than once`);
    if (missing) failures.push(`${missing} ids never exported`);
    if (enqueue.enqueued !== o.documents) failures.push(`producer enqueued ${enqueue.enqueued} of ${o.documents}`);
    if (fleet.stackTraces.length) failures.push(`stack traces in worker output: ${fleet.stackTraces.slice(0, 3).join(' | ')}`);
    return {
      ok: failures.length === 0, failures, documents: o.documents, corpus: corpus.description, maxmemoryBytes,
      usedMemoryBefore: before, peakUsedMemory: peak, usedMemoryAfter: after,
      bytesPerDocumentAtEnd: Math.round(((after - before) / o.documents) * 10) / 10,
      elapsedSeconds: Math.round(elapsedSeconds * 10) / 10, docsPerSecond: Math.round(o.documents / elapsedSeconds),
      exported, duplicates, missing, redisOomRefusals: enqueue.redisOomRefusals, enqueue,
    };
  } finally {
    if (sampling) clearInterval(sampling);
    await exporter.close().catch(() => undefined);
    await fleet.stopAll().catch(() => undefined);
    admin.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatSoak(r: SoakReport): string {
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  return [
    `soak: ${r.ok ? 'PASSED' : 'FAILED'}: ${r.documents.toLocaleString('en-US')} documents, ${r.corpus}`,
    `  redis maxmemory      ${mb(r.maxmemoryBytes)} (noeviction)`,
    `  used_memory          before ${mb(r.usedMemoryBefore)}, peak ${mb(r.peakUsedMemory)}, after ${mb(r.usedMemoryAfter)}`,
    `  bytes per document   ${r.bytesPerDocumentAtEnd} at the end (used_memory delta / documents)`,
    `  throughput           ${r.docsPerSecond.toLocaleString('en-US')} docs/s (${r.elapsedSeconds} s, enqueue to last export)`,
    `  exported             ${r.exported.toLocaleString('en-US')} lines, ${r.duplicates} duplicates, ${r.missing} missing`,
    `  E_REDIS_OOM refusals ${r.redisOomRefusals} (producer)`,
    ...r.failures.map((f) => `  FAILURE: ${f}`),
  ].join('\n') + '\n';
}
