/**
 * The pipeline ceiling: what roberta-batch itself costs once the model is nearly free (on a
 * GPU, roberta-base over short reviews runs at tens of thousands of documents per second, so
 * the queue, tokenization, batching, publishing and export become the limit).
 *
 * On a private Redis (so INFO cpu is ours alone), in one run: the tokenizer alone
 * (`encodeBatch` in groups of 256, what the worker's TokenizeQueue sends), BullMQ no-op
 * processors at 1, 32 and 64 documents per job, then real `roberta-batch worker` processes on
 * the micro model (models.ts) with `roberta-batch results --follow` as a separate process,
 * at 1 and 64 documents per job. The clock runs from the queue's resume to the last exported
 * line; CPU comes from /proc/<pid>/stat (worker, exporter) and INFO cpu (Redis).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { enqueueDocuments } from '../producer/enqueue.js';
import { createLogger } from '../shared/logger.js';
import { bullConnection, connect } from '../shared/redis.js';
import { ensureRedis } from '../pipeline/ensure-redis.js';
import { RobertaTokenizer } from '../model/tokenizer.js';
import type { BenchDoc } from './corpus.js';
import { loadAverage, processCpuSeconds } from './machine.js';
import { measureNoop } from './noop.js';
import { benchQueueName, removeBenchQueues } from './queues.js';
import type { BenchRatio } from './run.js';
import { ratio } from './stats.js';
import { cliEntry, WorkerProcess } from './worker-process.js';

export interface PipelineRun {
  /** `baseline`: the workers and exporter of another build (`baselineCli`), run just before. */
  build?: 'baseline';
  docsPerJob: number;
  workers: number;
  docs: number;
  seconds: number;
  docsPerSecond: number;
  /** CPU of the worker processes (all threads, Rust tokenizer pool included) per document. */
  workerCpuUsPerDoc?: number;
  exporterCpuUsPerDoc?: number;
  redisCpuUsPerDoc?: number;
  meanBatchSize?: number;
  load: number;
}

export interface PipelineCeilingResult {
  docs: number;
  meanTokens: number;
  redis: string;
  tokenizer: { docsPerSecond: number; load: number };
  noop: { docsPerJob: number; docsPerSecond: number; redisCpuUsPerDoc?: number; load: number }[];
  runs: PipelineRun[];
  ratios: BenchRatio[];
  /** Folder of the worker's .cpuprofile files when profiled. */
  profileDir?: string;
}

export interface PipelineCeilingOptions {
  model: string;
  tokenizerDir: string;
  docs: BenchDoc[];
  /** Extra worker flags (`--max-batch-size 64` ...). */
  workerArgs?: string[];
  /** Runs as [docsPerJob, worker processes]; default 1 and 64 per job on one worker. */
  runs?: [number, number][];
  /** Writes each worker's CPU profile (node --cpu-prof) into this folder. */
  cpuProfDir?: string;
  /**
   * Another build's dist/cli/main.js (an earlier commit): each run is made with it first, then
   * with this build, so before/after ratios come from one run on the same machine load.
   */
  baselineCli?: string;
  log?: (line: string) => void;
}

// The producer's info lines would interleave with the report.
const quiet = createLogger({ level: 'warn' });

export async function measureTokenizer(tokenizerDir: string, docs: readonly BenchDoc[], group = 256): Promise<number> {
  const tok = await RobertaTokenizer.fromDir(tokenizerDir, { maxLength: 512 });
  const texts = docs.map((d) => d.text);
  await tok.encodeBatch(texts.slice(0, group)); // warm-up: the first call allocates Rust's pool
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += group) await tok.encodeBatch(texts.slice(i, i + group));
  return texts.length / ((performance.now() - t0) / 1000);
}

async function redisCpuSeconds(url: string): Promise<number> {
  const r = connect(url);
  try {
    await r.connect();
    const info = await r.info('cpu');
    const v = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    return v('used_cpu_user') + v('used_cpu_sys');
  } finally {
    r.disconnect();
  }
}

/** Newlines in a growing file, read incrementally (the exporter appends one line per record). */
class LineCounter {
  #file: string;
  #offset = 0;
  #lines = 0;
  #buf = Buffer.alloc(1 << 20);

  constructor(file: string) {
    this.#file = file;
  }

  count(): number {
    let size: number;
    try {
      size = statSync(this.#file).size;
    } catch {
      return this.#lines;
    }
    if (size <= this.#offset) return this.#lines;
    const fd = openSync(this.#file, 'r');
    try {
      while (this.#offset < size) {
        const n = readSync(fd, this.#buf, 0, Math.min(this.#buf.length, size - this.#offset), this.#offset);
        if (n <= 0) break;
        for (let i = 0; i < n; i++) if (this.#buf[i] === 0x0a) this.#lines++;
        this.#offset += n;
      }
    } finally {
      closeSync(fd);
    }
    return this.#lines;
  }
}

/** `roberta-batch results --follow` as its own process, ready once it logged that it exports. */
async function startExporter(redisUrl: string, queue: string, out: string, cli: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'results', '--follow', '--redis-url', redisUrl, '--queue', queue, '--out', out], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (d: Buffer) => { if (output.length < 100_000) output += d.toString(); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const deadline = Date.now() + 60_000;
  while (!/exporting results until/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`results --follow did not start:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

export async function measurePipelineRun(redisUrl: string, o: PipelineCeilingOptions, docsPerJob: number, workers: number, cli = cliEntry()): Promise<PipelineRun> {
  const name = benchQueueName(`ceiling${docsPerJob}x${workers}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-ceiling-'));
  const out = path.join(dir, 'out.jsonl');
  const queue = new Queue(name, { connection: bullConnection(redisUrl) });
  const procs: WorkerProcess[] = [];
  let exporter: ChildProcess | undefined;
  try {
    await queue.pause();
    const enq = await enqueueDocuments(o.docs, { redisUrl, queue: name, docsPerJob, runId: name, maxWaiting: 10_000_000, logger: quiet });
    if (enq.enqueued !== o.docs.length) throw new Error(`enqueued ${enq.enqueued} of ${o.docs.length} documents (rejected ${enq.rejected})`);
    const nodeArgs = o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [];
    const args = ['--redis-url', redisUrl, '--queue', name, '--model', o.model, '--tokenizer', o.tokenizerDir, ...(o.workerArgs ?? [])];
    for (let i = 0; i < workers; i++) procs.push(await WorkerProcess.start([...args, '--worker-id', `ceiling-${i}`], 120_000, nodeArgs, cli));
    exporter = await startExporter(redisUrl, name, out, cli);
    const lines = new LineCounter(out);
    const errors = new LineCounter(out.replace(/\.jsonl$/, '.errors.jsonl'));
    const before = await Promise.all(procs.map((p) => p.metrics()));
    const cpu = () => ({ workers: procs.reduce((a, p) => a + (processCpuSeconds(p.pid) ?? NaN), 0), exporter: processCpuSeconds(exporter!.pid!) ?? NaN });
    const cpu0 = cpu();
    const redis0 = await redisCpuSeconds(redisUrl);
    const t0 = performance.now();
    await queue.resume();
    for (;;) {
      const n = lines.count() + errors.count();
      if (n >= o.docs.length) break;
      if (exporter.exitCode !== null) throw new Error(`results --follow exited with ${exporter.exitCode} after ${n} lines`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpu();
    const redis1 = await redisCpuSeconds(redisUrl);
    if (errors.count()) throw new Error(`${errors.count()} documents failed in the pipeline-ceiling run`);
    const after = await Promise.all(procs.map((p) => p.metrics()));
    const batches = after.reduce((a, m, i) => a + m.batches - before[i].batches, 0);
    const rows = after.reduce((a, m, i) => a + m.batchRowsSum - before[i].batchRowsSum, 0);
    const perDoc = (s: number) => (Number.isFinite(s) ? (s * 1e6) / o.docs.length : undefined);
    return {
      docsPerJob, workers, docs: o.docs.length, seconds, docsPerSecond: o.docs.length / seconds,
      workerCpuUsPerDoc: perDoc(cpu1.workers - cpu0.workers),
      exporterCpuUsPerDoc: perDoc(cpu1.exporter - cpu0.exporter),
      redisCpuUsPerDoc: perDoc(redis1 - redis0),
      meanBatchSize: batches ? rows / batches : undefined,
      load: loadAverage()[0],
    };
  } finally {
    for (const p of procs) await p.stop();
    if (exporter) await stopChild(exporter);
    await queue.close();
    await removeBenchQueues(redisUrl, name);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measurePipelineCeiling(o: PipelineCeilingOptions): Promise<PipelineCeilingResult> {
  const log = o.log ?? (() => {});
  const redis = await ensureRedis(undefined, { private: true });
  try {
    const tok = await RobertaTokenizer.fromDir(o.tokenizerDir, { maxLength: 512 });
    const sample = await tok.encodeBatch(o.docs.slice(0, 2000).map((d) => d.text));
    const meanTokens = sample.reduce((a, e) => a + e.ids.length, 0) / sample.length;
    const tokenizer = { docsPerSecond: await measureTokenizer(o.tokenizerDir, o.docs), load: loadAverage()[0] };
    log(`  pipeline ceiling: tokenizer alone (encodeBatch of 256): ${Math.round(tokenizer.docsPerSecond)} docs/s (load ${tokenizer.load})`);
    const noop: PipelineCeilingResult['noop'] = [];
    for (const k of [1, 32, 64]) {
      const r = await measureNoop(redis.url, o.docs, k, 64, () => redisCpuSeconds(redis.url));
      const redisCpuUsPerDoc = r.redisCpuSeconds === undefined ? undefined : (r.redisCpuSeconds * 1e6) / r.docs;
      noop.push({ docsPerJob: k, docsPerSecond: r.docs / r.seconds, redisCpuUsPerDoc, load: loadAverage()[0] });
      log(`  pipeline ceiling: BullMQ no-op, ${k} per job: ${Math.round(r.docs / r.seconds)} docs/s, redis ${redisCpuUsPerDoc?.toFixed(1)} µs/doc (load ${loadAverage()[0]})`);
    }
    const runs: PipelineRun[] = [];
    for (const [k, w] of o.runs ?? [[1, 1], [64, 1]]) {
      if (o.baselineCli) {
        const b = { ...(await measurePipelineRun(redis.url, { ...o, cpuProfDir: undefined }, k, w, o.baselineCli)), build: 'baseline' as const };
        runs.push(b);
        log(`  pipeline ceiling (baseline build): ${w} worker${w > 1 ? 's' : ''}, ${k} per job: ${Math.round(b.docsPerSecond)} docs/s, worker ${b.workerCpuUsPerDoc?.toFixed(0)} µs/doc (load ${b.load})`);
      }
      const r = await measurePipelineRun(redis.url, o, k, w);
      runs.push(r);
      log(`  pipeline ceiling: ${w} worker${w > 1 ? 's' : ''}, ${k} per job: ${Math.round(r.docsPerSecond)} docs/s, worker ${r.workerCpuUsPerDoc?.toFixed(0)} µs/doc, exporter ${r.exporterCpuUsPerDoc?.toFixed(0)} µs/doc, redis ${r.redisCpuUsPerDoc?.toFixed(0)} µs/doc (load ${r.load})`);
    }
    const l = loadAverage()[0];
    const find = (k: number, w = 1, build?: 'baseline') => runs.find((r) => r.docsPerJob === k && r.workers === w && r.build === build);
    const run = (k: number, w = 1) => find(k, w)?.docsPerSecond;
    const nop = (k: number) => noop.find((n) => n.docsPerJob === k)?.docsPerSecond;
    const ratios: BenchRatio[] = [
      { name: 'pipeline ceiling: 64 per job / tokenizer-only encodeBatch (docs/s)', value: ratio(run(64), tokenizer.docsPerSecond), min: 0.5, load: l },
      { name: 'pipeline ceiling: 1 per job / BullMQ no-op 1 per job (docs/s)', value: ratio(run(1), nop(1)), min: 0.5, load: l },
      { name: 'pipeline ceiling: 64 per job / BullMQ no-op 64 per job (docs/s)', value: ratio(run(64), nop(64)), load: l },
    ];
    for (const b of runs.filter((r) => r.build === 'baseline')) {
      const a = find(b.docsPerJob, b.workers)!;
      ratios.push({ name: `this build / baseline build, ${b.workers} worker${b.workers > 1 ? 's' : ''}, ${b.docsPerJob} per job (docs/s)`, value: ratio(a.docsPerSecond, b.docsPerSecond), load: l });
      ratios.push({ name: `this build / baseline build, ${b.workers} worker${b.workers > 1 ? 's' : ''}, ${b.docsPerJob} per job (worker CPU µs/doc)`, value: ratio(a.workerCpuUsPerDoc, b.workerCpuUsPerDoc), load: l });
    }
    if (run(64, 2) !== undefined) ratios.push({ name: 'pipeline ceiling: 2 workers / 1 worker, 64 per job (docs/s)', value: ratio(run(64, 2), run(64)), load: l });
    return { docs: o.docs.length, meanTokens, redis: redis.source, tokenizer, noop, runs, ratios, profileDir: o.cpuProfDir };
  } finally {
    await redis.stop();
  }
}
