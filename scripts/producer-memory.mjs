#!/usr/bin/env node
// Measures the producer's memory and rate on generated JSON Lines (run `npm run build` first):
//   node scripts/producer-memory.mjs 50 200      # sizes in MB
// For each size: generates the file, then in a fresh child process (so peak RSS is per run)
// reads it alone, and reads + enqueues it into a private redis-server on a free port
// (dist/pipeline/redis-server.js, started and stopped here; nothing else is touched). Prints one JSON line per run.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function child(mode, file, redisUrl) {
  const { readFile } = await import(path.join(root, 'dist/producer/readers.js'));
  const { enqueueFile } = await import(path.join(root, 'dist/producer/enqueue.js'));
  const { createLogger } = await import(path.join(root, 'dist/shared/logger.js'));
  let peak = 0;
  const samples = [];
  const sample = () => { const r = process.memoryUsage().rss; peak = Math.max(peak, r); };
  const timer = setInterval(sample, 50);
  const t0 = performance.now();
  let docs = 0;
  if (mode === 'read') {
    for await (const item of readFile(file)) if (item.doc) docs++;
  } else {
    const s = await enqueueFile(file, {
      // No worker drains this private Redis: lift the backpressure limit (default 100 000 waiting).
      maxWaiting: Number.MAX_SAFE_INTEGER, redisUrl, queue: `mem-${process.pid}`, logger: createLogger({ level: 'warn' }),
      onProgress: (p) => { if (p.totalBytes && samples.length < Math.floor((10 * p.bytesRead) / p.totalBytes)) samples.push(Math.round(process.memoryUsage().rss / 2 ** 20)); },
    });
    docs = s.enqueued;
  }
  clearInterval(timer);
  sample();
  const secs = (performance.now() - t0) / 1000;
  const mb = statSync(file).size / 2 ** 20;
  console.log(JSON.stringify({
    mode, inputMiB: Math.round(mb), docs, seconds: +secs.toFixed(1), docsPerSecond: Math.round(docs / secs),
    peakRssMiB: Math.round(peak / 2 ** 20), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(samples.length ? { rssMiBPerTenth: samples } : {}),
  }));
}

async function generate(file, mb) {
  const out = createWriteStream(file);
  const words = 'the movie was a surprisingly moving tale of loss and hope with fine acting but a slow middle act'.split(' ');
  let bytes = 0;
  for (let i = 0; bytes < mb * 2 ** 20; i++) {
    const n = 20 + (i % 40);
    const text = Array.from({ length: n }, (_, k) => words[(i * 7 + k) % words.length]).join(' ');
    const line = `${JSON.stringify({ id: `doc-${i}`, text, source: 'generated', stars: i % 5 })}\n`;
    bytes += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

async function main() {
  const sizes = process.argv.slice(2).map(Number);
  const { RedisServer } = await import(path.join(root, 'dist/pipeline/redis-server.js'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-mem-'));
  const redis = await RedisServer.start({ dirPrefix: 'rb-mem-redis-' });
  try {
    for (const mb of sizes.length ? sizes : [50, 200]) {
      const file = path.join(dir, `gen-${mb}.jsonl`);
      await generate(file, mb);
      for (const mode of ['read', 'enqueue']) {
        const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, file, redis.url], { stdio: 'inherit' });
        if (r.status !== 0) throw new Error(`child ${mode} ${mb} MB exited ${r.status}`);
      }
      spawnSync('redis-cli', ['-p', String(redis.port), 'FLUSHDB'], { stdio: 'ignore' }); // private server: its own data only
      rmSync(file);
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5]);
else await main();
