/**
 * The pipeline ceiling: what roberta-batch itself costs once the model is nearly free (on a
 * GPU, roberta-base over short reviews runs at tens of thousands of documents per second, so
 * the queue, tokenization, batching, publishing and export become the limit).
 *
 * On a private Redis (so INFO cpu is ours alone), in one run: the tokenizer alone
 * (`encodeBatch` in groups of 256, what the worker's TokenizeQueue sends), BullMQ no-op
 * processors at 1, 32 and 64 documents per job, then real `roberta-batch worker` processes on
 * the micro model (models.ts) with `roberta-batch results --follow` as a separate process,
 * at 1 and 64 documents per job. Each run first passes a warm-up set (the first documents
 * under other ids) through the same processes, so that, like the references, it is measured
 * warm (see below); the measured clock then runs from the queue's resume to the last
 * exported line; CPU comes from /proc/<pid>/stat (worker, exporter) and INFO cpu (Redis).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { enqueueDocuments } from '../producer/enqueue.js';
import { CEILING_WARMUP_DOCS } from '../shared/flags.js';
import { createLogger } from '../shared/logger.js';
import { bullConnection, connect } from '../shared/redis.js';
import { ensureRedis } from '../pipeline/ensure-redis.js';
import { RobertaTokenizer } from '../model/tokenizer.js';
import type { BenchDoc } from './corpus.js';
import { loadAverage, processCpuSeconds, settleHeap, threadCpuSeconds } from './machine.js';
import { measureNoop } from './noop.js';
import { benchQueueName, removeBenchQueues } from './queues.js';
import type { BenchRatio } from './run.js';
import { ratio, roundsRatio } from './stats.js';
import { cliEntry, WorkerProcess } from './worker-process.js';

export interface PipelineRun {
  /** `baseline`: the workers and exporter of another build (`baselineCli`), run just before. */
  build?: 'baseline';
  /** 1-based; each round measures every run again, between two fresh reference measurements. */
  round: number;
  docsPerJob: number;
  workers: number;
  docs: number;
  seconds: number;
  docsPerSecond: number;
  /** CPU of the worker processes (all threads, Rust tokenizer pool included) per document. */
  workerCpuUsPerDoc?: number;
  /**
   * CPU of the worker processes' main threads per document: the part that one process cannot
   * spread over more cores (BullMQ, batching, publishing, the tokenizer's JavaScript side), so
   * 1e6 / this is what one worker process can feed at most, however many cores and GPUs it has.
   */
  workerMainThreadCpuUsPerDoc?: number;
  exporterCpuUsPerDoc?: number;
  redisCpuUsPerDoc?: number;
  /**
   * CPU of this bench process during the run (waiting for the exporter's output lines): what
   * the measurement itself takes from the cores the pipeline runs on.
   */
  benchCpuUsPerDoc?: number;
  meanBatchSize?: number;
  load: number;
  /** The warm-up pass through the same processes before the measured one (absent with 0). */
  warmup?: { docs: number; seconds: number; docsPerSecond: number };
}

/*
 * The warm-up pass (CEILING_WARMUP_DOCS documents, --ceiling-warmup). The references are
 * measured warm (the tokenizer after one call, the no-op worker in a process that has run
 * BullMQ for minutes), a worker process was not: traced every 250 ms (its batch-rows counter),
 * a cold worker inferred ~1,300 documents in its first 0.54 s against ~13,000-15,000 docs/s
 * after it (JIT, heap growth, pipeline fill; micro model, 64 per job, 2 cores), ~12 % of a
 * 40,000-document run. A user's worker runs for hours; `--ceiling-warmup 0` measures it cold.
 */

/**
 * A reference rate: the tokenizer alone, or a BullMQ no-op processor. `round` 0 is the
 * opening set; a reference measured for a ratio names the run it brackets (`around`).
 */
export interface ReferenceMeasurement {
  kind: 'tokenizer' | 'noop';
  /** No-op only. */
  docsPerJob?: number;
  docsPerSecond: number;
  redisCpuUsPerDoc?: number;
  round: number;
  around?: { docsPerJob: number; workers: number; when: 'before' | 'after' };
  load: number;
}

export interface PipelineCeilingResult {
  /** The model of the runs, as the report names it. */
  model: string;
  docs: number;
  meanTokens: number;
  redis: string;
  rounds: number;
  /** Documents of each run's warm-up pass (0: measured cold). */
  warmupDocs: number;
  /** Every reference and every run, in the order they were measured. */
  measurements: ({ type: 'reference' } & ReferenceMeasurement | { type: 'run' } & PipelineRun)[];
  references: ReferenceMeasurement[];
  runs: PipelineRun[];
  ratios: BenchRatio[];
  /** Folder of the worker's .cpuprofile files when profiled. */
  profileDir?: string;
}

export interface PipelineCeilingOptions {
  model: string;
  /** What the report calls the model (default: the micro model). */
  modelName?: string;
  tokenizerDir: string;
  docs: BenchDoc[];
  /** Extra worker flags (`--max-batch-size 64` ...). */
  workerArgs?: string[];
  /** Runs as [docsPerJob, worker processes]; default 1 and 64 per job on one worker. */
  runs?: [number, number][];
  /** Times every run is measured, each between two reference measurements (default 1). */
  rounds?: number;
  /** Writes each worker's CPU profile (node --cpu-prof) into this folder. */
  cpuProfDir?: string;
  /** Documents of each run's warm-up pass (default CEILING_WARMUP_DOCS, at most the run's own; 0: none). */
  warmupDocs?: number;
  /**
   * Another build's dist/cli/main.js (an earlier commit): each run is made with it too, in
   * alternating order (round 1 baseline first, round 2 this build first...), so before/after
   * ratios come from one run on the same machine load.
   */
  baselineCli?: string;
  log?: (line: string) => void;
}

export const MICRO_MODEL_NAME = 'micro model: 1 layer, hidden 8';

// The producer's info lines would interleave with the report.
const quiet = createLogger({ level: 'warn' });

export async function measureTokenizer(tokenizerDir: string, docs: readonly BenchDoc[], group = 256): Promise<number> {
  const tok = await RobertaTokenizer.fromDir(tokenizerDir, { maxLength: 512 });
  const texts = docs.map((d) => d.text);
  await tok.encodeBatch(texts.slice(0, group)); // warm-up: the first call allocates Rust's pool
  await settleHeap();
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

  /**
   * Called every 10 ms while a run lasts, on cores the run needs: a missing file (the errors
   * file of a run without failures) is not an exception, newlines are found by memchr.
   */
  count(): number {
    const size = statSync(this.#file, { throwIfNoEntry: false })?.size ?? 0;
    if (size <= this.#offset) return this.#lines;
    const fd = openSync(this.#file, 'r');
    try {
      while (this.#offset < size) {
        const n = readSync(fd, this.#buf, 0, Math.min(this.#buf.length, size - this.#offset), this.#offset);
        if (n <= 0) break;
        const chunk = this.#buf.subarray(0, n);
        for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) this.#lines++;
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

export async function measurePipelineRun(redisUrl: string, o: PipelineCeilingOptions, docsPerJob: number, workers: number, round = 1, cli = cliEntry()): Promise<PipelineRun> {
  const name = benchQueueName(`ceiling${docsPerJob}x${workers}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-ceiling-'));
  const out = path.join(dir, 'out.jsonl');
  const queue = new Queue(name, { connection: bullConnection(redisUrl) });
  const procs: WorkerProcess[] = [];
  let exporter: ChildProcess | undefined;
  const enqueue = async (docs: readonly BenchDoc[], runId: string) => {
    const enq = await enqueueDocuments(docs, { redisUrl, queue: name, docsPerJob, runId, maxWaiting: 10_000_000, logger: quiet });
    if (enq.enqueued !== docs.length) throw new Error(`enqueued ${enq.enqueued} of ${docs.length} documents (rejected ${enq.rejected})`);
  };
  // Other ids: the exporter and the done markers would take the measured documents for repeats.
  const warmupDocs = o.docs.slice(0, Math.min(o.warmupDocs ?? CEILING_WARMUP_DOCS, o.docs.length)).map((d) => ({ id: `warmup:${d.id}`, text: d.text }));
  try {
    await queue.pause();
    await enqueue(warmupDocs.length ? warmupDocs : o.docs, warmupDocs.length ? `${name}-warmup` : name);
    const nodeArgs = o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [];
    const args = ['--redis-url', redisUrl, '--queue', name, '--model', o.model, '--tokenizer', o.tokenizerDir, ...(o.workerArgs ?? [])];
    for (let i = 0; i < workers; i++) procs.push(await WorkerProcess.start([...args, '--worker-id', `ceiling-${i}`], 120_000, nodeArgs, cli));
    exporter = await startExporter(redisUrl, name, out, cli);
    const lines = new LineCounter(out);
    const errors = new LineCounter(out.replace(/\.jsonl$/, '.errors.jsonl'));
    const exported = async (n: number) => {
      for (;;) {
        const got = lines.count() + errors.count();
        if (got >= n) return;
        if (exporter!.exitCode !== null) throw new Error(`results --follow exited with ${exporter!.exitCode} after ${got} lines`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    let warmup: PipelineRun['warmup'];
    if (warmupDocs.length) {
      const w0 = performance.now();
      await queue.resume();
      await exported(warmupDocs.length);
      const seconds = (performance.now() - w0) / 1000;
      warmup = { docs: warmupDocs.length, seconds, docsPerSecond: warmupDocs.length / seconds };
      // Paused, the workers fetch nothing while the measured documents are enqueued.
      await queue.pause();
      await enqueue(o.docs, name);
    }
    const before = await Promise.all(procs.map((p) => p.metrics()));
    const cpu = () => ({
      workers: procs.reduce((a, p) => a + (processCpuSeconds(p.pid) ?? NaN), 0),
      workersMain: procs.reduce((a, p) => a + (threadCpuSeconds(p.pid) ?? NaN), 0),
      exporter: processCpuSeconds(exporter!.pid!) ?? NaN,
      bench: processCpuSeconds(process.pid) ?? NaN,
    });
    await settleHeap();
    const cpu0 = cpu();
    const redis0 = await redisCpuSeconds(redisUrl);
    const t0 = performance.now();
    await queue.resume();
    await exported(warmupDocs.length + o.docs.length);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpu();
    const redis1 = await redisCpuSeconds(redisUrl);
    if (errors.count()) throw new Error(`${errors.count()} documents failed in the pipeline-ceiling run`);
    const after = await Promise.all(procs.map((p) => p.metrics()));
    const batches = after.reduce((a, m, i) => a + m.batches - before[i].batches, 0);
    const rows = after.reduce((a, m, i) => a + m.batchRowsSum - before[i].batchRowsSum, 0);
    const perDoc = (s: number) => (Number.isFinite(s) ? (s * 1e6) / o.docs.length : undefined);
    return {
      round, docsPerJob, workers, docs: o.docs.length, seconds, docsPerSecond: o.docs.length / seconds,
      workerCpuUsPerDoc: perDoc(cpu1.workers - cpu0.workers),
      workerMainThreadCpuUsPerDoc: perDoc(cpu1.workersMain - cpu0.workersMain),
      exporterCpuUsPerDoc: perDoc(cpu1.exporter - cpu0.exporter),
      benchCpuUsPerDoc: perDoc(cpu1.bench - cpu0.bench),
      redisCpuUsPerDoc: perDoc(redis1 - redis0),
      meanBatchSize: batches ? rows / batches : undefined,
      load: loadAverage()[0],
      warmup,
    };
  } finally {
    for (const p of procs) await p.stop();
    if (exporter) await stopChild(exporter);
    await queue.close();
    await removeBenchQueues(redisUrl, name);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every run between two measurements of its reference (the tokenizer alone for packed jobs,
 * BullMQ's no-op at 1 per job for single-document jobs), taken right before and right after
 * it: a reference measured minutes apart from its run moved the ratio by more than any change
 * under test (the tokenizer alone measured 10,463 and 17,806 docs/s in two runs an hour apart).
 * A ratio is the run's rate over the mean of its two references, per round; the median over
 * rounds is reported.
 */
export async function measurePipelineCeiling(o: PipelineCeilingOptions): Promise<PipelineCeilingResult> {
  const log = o.log ?? (() => {});
  const rounds = o.rounds ?? 1;
  const redis = await ensureRedis(undefined, { private: true });
  try {
    const tok = await RobertaTokenizer.fromDir(o.tokenizerDir, { maxLength: 512 });
    const sample = await tok.encodeBatch(o.docs.slice(0, 2000).map((d) => d.text));
    const meanTokens = sample.reduce((a, e) => a + e.ids.length, 0) / sample.length;
    const measurements: PipelineCeilingResult['measurements'] = [];
    const aroundText = (a?: ReferenceMeasurement['around']) => (a ? ` (${a.when} ${a.docsPerJob} per job${a.workers > 1 ? `, ${a.workers} workers` : ''})` : '');
    const reference = async (kind: 'tokenizer' | 'noop', docsPerJob: number, round: number, around?: ReferenceMeasurement['around']): Promise<ReferenceMeasurement> => {
      let m: ReferenceMeasurement;
      if (kind === 'tokenizer') {
        m = { kind, docsPerSecond: await measureTokenizer(o.tokenizerDir, o.docs), round, around, load: loadAverage()[0] };
        log(`  pipeline ceiling: tokenizer alone (encodeBatch of 256): ${Math.round(m.docsPerSecond)} docs/s${aroundText(around)} (load ${m.load})`);
      } else {
        const r = await measureNoop(redis.url, o.docs, docsPerJob, 64, () => redisCpuSeconds(redis.url));
        const redisCpuUsPerDoc = r.redisCpuSeconds === undefined ? undefined : (r.redisCpuSeconds * 1e6) / r.docs;
        m = { kind, docsPerJob, docsPerSecond: r.docs / r.seconds, redisCpuUsPerDoc, round, around, load: loadAverage()[0] };
        log(`  pipeline ceiling: BullMQ no-op, ${docsPerJob} per job: ${Math.round(m.docsPerSecond)} docs/s, redis ${redisCpuUsPerDoc?.toFixed(1)} µs/doc${aroundText(around)} (load ${m.load})`);
      }
      measurements.push({ type: 'reference', ...m });
      return m;
    };
    const pipeline = async (k: number, w: number, round: number, baseline: boolean): Promise<PipelineRun> => {
      const r: PipelineRun = baseline
        ? { ...(await measurePipelineRun(redis.url, { ...o, cpuProfDir: undefined }, k, w, round, o.baselineCli)), build: 'baseline' }
        : await measurePipelineRun(redis.url, o, k, w, round);
      measurements.push({ type: 'run', ...r });
      const who = baseline ? ' (baseline build)' : '';
      log(`  pipeline ceiling${who}${rounds > 1 ? `, round ${round}` : ''}: ${w} worker${w > 1 ? 's' : ''}, ${k} per job: ${Math.round(r.docsPerSecond)} docs/s, worker ${r.workerCpuUsPerDoc?.toFixed(0)} µs/doc (main thread ${r.workerMainThreadCpuUsPerDoc?.toFixed(0)}), exporter ${r.exporterCpuUsPerDoc?.toFixed(0)} µs/doc, redis ${r.redisCpuUsPerDoc?.toFixed(0)} µs/doc, bench ${r.benchCpuUsPerDoc?.toFixed(1)} µs/doc (load ${r.load})`);
      return r;
    };

    // The opening set: what BullMQ alone does at each packing (the 64-per-job no-op ratio, no target).
    for (const k of [1, 32, 64]) await reference('noop', k, 0);
    const specs = o.runs ?? [[1, 1], [64, 1]];
    type Cell = { before: ReferenceMeasurement; after: ReferenceMeasurement; run: PipelineRun; baseline?: PipelineRun };
    const cells = new Map<string, Cell[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const [k, w] of specs) {
        const kind = k === 1 ? 'noop' : 'tokenizer';
        const before = await reference(kind, 1, round, { docsPerJob: k, workers: w, when: 'before' });
        let baseline: PipelineRun | undefined;
        // Alternating order: a machine that slows down during a round favours neither build.
        if (o.baselineCli && round % 2 === 1) baseline = await pipeline(k, w, round, true);
        const run = await pipeline(k, w, round, false);
        if (o.baselineCli && round % 2 === 0) baseline = await pipeline(k, w, round, true);
        const after = await reference(kind, 1, round, { docsPerJob: k, workers: w, when: 'after' });
        const key = `${k}x${w}`;
        cells.set(key, [...(cells.get(key) ?? []), { before, after, run, baseline }]);
      }
    }
    const l = loadAverage()[0];
    const overRefs = (c: Cell) => ratio(c.run.docsPerSecond, (c.before.docsPerSecond + c.after.docsPerSecond) / 2);
    const runs = measurements.flatMap((m) => (m.type === 'run' ? [m] : []));
    const references = measurements.flatMap((m) => (m.type === 'reference' ? [m] : []));
    const ratios: BenchRatio[] = [];
    const c64 = cells.get('64x1');
    const c1 = cells.get('1x1');
    ratios.push(roundsRatio('pipeline ceiling: 64 per job / tokenizer-only encodeBatch (docs/s)', c64 ? c64.map(overRefs) : [undefined], l, 0.5));
    ratios.push(roundsRatio('pipeline ceiling: 1 per job / BullMQ no-op 1 per job (docs/s)', c1 ? c1.map(overRefs) : [undefined], l, 0.5));
    const noop64 = references.find((m) => m.kind === 'noop' && m.docsPerJob === 64 && m.round === 0);
    ratios.push(roundsRatio('pipeline ceiling: 64 per job / BullMQ no-op 64 per job (docs/s)', c64 ? c64.map((c) => ratio(c.run.docsPerSecond, noop64?.docsPerSecond)) : [undefined], l));
    for (const [key, cs] of cells) {
      if (!cs[0].baseline) continue;
      const [k, w] = key.split('x').map(Number);
      const label = `${w} worker${w > 1 ? 's' : ''}, ${k} per job`;
      ratios.push(roundsRatio(`this build / baseline build, ${label} (docs/s)`, cs.map((c) => ratio(c.run.docsPerSecond, c.baseline!.docsPerSecond)), l));
      ratios.push(roundsRatio(`this build / baseline build, ${label} (worker CPU µs/doc)`, cs.map((c) => ratio(c.run.workerCpuUsPerDoc, c.baseline!.workerCpuUsPerDoc)), l));
    }
    const c64x2 = cells.get('64x2');
    if (c64x2 && c64) ratios.push(roundsRatio('pipeline ceiling: 2 workers / 1 worker, 64 per job (docs/s)', c64x2.map((c, i) => ratio(c.run.docsPerSecond, c64[i]?.run.docsPerSecond)), l));
    return { model: o.modelName ?? MICRO_MODEL_NAME, docs: o.docs.length, meanTokens, redis: redis.source, rounds, warmupDocs: Math.min(o.warmupDocs ?? CEILING_WARMUP_DOCS, o.docs.length), measurements, references, runs, ratios, profileDir: o.cpuProfDir };
  } finally {
    await redis.stop();
  }
}
