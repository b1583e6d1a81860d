#!/usr/bin/env node
/**
 * The results side alone: N sentiment result records published the way workers publish them,
 * then drained by `ResultsExporter` into a JSON Lines file; exporter docs/s and CPU µs per
 * document (process.cpuUsage of this process, which runs nothing else while it drains), with
 * 1 and 64 documents per document job. Private redis-server.
 * Usage: node scripts/results-path-bench.mjs [dist=./dist] [documents=20000]
 * `dist` may be the build of an older commit (its publisher API is detected), to compare.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = path.resolve(process.argv[2] ?? 'dist');
const n = Number(process.argv[3] ?? 20_000);
const load = (m) => import(pathToFileURL(path.join(dist, m)).href);
const { freePort, waitForPort } = await load('shared/ports.js');
const { ResultsPublisher } = await load('worker/results-publisher.js');
// exporter/ since the exporter left worker/; an older build (the "before" side) has it in worker/.
const { ResultsExporter } = await load(existsSync(path.join(dist, 'exporter/results-exporter.js')) ? 'exporter/results-exporter.js' : 'worker/results-exporter.js');
const { bullConnection } = await load('shared/redis.js');

const port = await freePort();
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-results-bench-'));
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
const record = (i) => ({
  v: 1, status: 'ok', id: `doc-${i}`, runId: 'run-1', model: { name: 'tiny', sha256: 'a'.repeat(64) }, task: 'sentiment', workerId: 'w',
  finishedAt: new Date().toISOString(), tokenCount: 27, truncated: false, windows: 1, batchSize: 64,
  timings: { endToEndMs: 800, batchWaitMs: 3, inferenceMs: 40 }, sentiment: { label: 'positive', score: 0.93, logits: [0.1, 0.2] },
});
const rows = [];
try {
  await waitForPort(port, 10_000);
  for (const perJob of [1, 64]) {
    const queue = `b${perJob}`;
    const p = new ResultsPublisher(`${queue}-results`, bullConnection(url), 'bull');
    const newApi = p.publish.length >= 2;
    const all = [];
    for (let i = 0; i < n; i += perJob) {
      const recs = Array.from({ length: Math.min(perJob, n - i) }, (_, k) => record(i + k));
      all.push(newApi ? p.publish(`job-${i}`, recs) : p.publish(recs));
    }
    await Promise.all(all);
    await p.close();
    const exporter = new ResultsExporter({ redisUrl: url, queue, prefix: 'bull', out: path.join(dir, `${queue}.jsonl`) });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await exporter.start();
    await exporter.waitForCount(n);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await exporter.close();
    rows.push({ docsPerJob: perJob, resultJobs: newApi ? Math.ceil(n / perJob) : n, docsPerSecond: Math.round(n / (ms / 1000)), cpuMicrosPerDoc: Math.round((cpu.user + cpu.system) / n) });
  }
  console.log(JSON.stringify({ dist, documents: n, rows }));
} finally {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
