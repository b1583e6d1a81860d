/**
 * The chaos run: thousands of documents mixed with planted bad inputs go through several worker
 * processes on a private Redis while workers are SIGKILLed mid-batch, one is SIGTERMed then
 * SIGKILLed 200 ms later, Redis is SIGKILLed and restarted from its append-only file, and every
 * client is frozen with `CLIENT PAUSE` for longer than a job lock. Then the export is checked
 * against what must hold (see report.ts): nothing lost, nothing twice, each result that of its
 * own document, failures exactly the planted bad inputs.
 *
 * Locks are short (3 s, checked every 500 ms) so that a killed worker's jobs come back in
 * seconds; maxStalledCount is raised to 20 because one job may be caught by several faults
 * (a kill, then the pause) and must not be failed for it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { logger } from '../shared/logger.js';
import { bullConnection } from '../shared/redis.js';
import type { ResultRecord } from '../shared/types.js';
import { generateModel } from '../model/generate.js';
import type { ReadItem } from '../producer/document.js';
import { DocumentProducer, type EnqueueSummary } from '../producer/enqueue.js';
import { readFile } from '../producer/readers.js';
import { jobIdForDocument } from '../shared/job-id.js';
import { ResultsExporter } from '../exporter/results-exporter.js';
import { WorkerFleet, type FleetWorker, type StallEvent } from './fleet.js';
import { writeChaosCorpus, type ChaosCorpus } from './planted.js';
import { RedisServer } from '../pipeline/redis-server.js';
import { sleep } from '../shared/util.js';
import { referenceLogits } from './reference.js';
import type { ChaosReport, FaultRecord } from './report.js';
import { checkInvariants } from './report.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Each chaos worker's --max-batch-size and --concurrency (it holds at most 3 batches of jobs). */
const WORKER_MAX_BATCH = 16;
const WORKER_CONCURRENCY = 48;

export type FaultKind = 'sigkill' | 'sigterm-then-sigkill' | 'redis-restart' | 'client-pause';

export interface ChaosOptions {
  documents: number;
  workers: number;
  kills: number;
  sigtermKills: number;
  redisRestarts: number;
  pauses: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** Worker --max-doc-bytes; the planted over-size document is one byte over it. */
  workerMaxDocBytes: number;
  /** Progress lines as the run goes (stderr in the CLI). */
  onProgress?: (line: string) => void;
  keepDir?: boolean;
}

export const CHAOS_FULL: Omit<ChaosOptions, 'onProgress'> = {
  documents: 5_000, workers: 3, kills: 3, sigtermKills: 1, redisRestarts: 1, pauses: 1,
  lockDurationMs: 3_000, stalledIntervalMs: 500, maxStalledCount: 20, workerMaxDocBytes: 20_000,
};

export const CHAOS_QUICK: Omit<ChaosOptions, 'onProgress'> = { ...CHAOS_FULL, documents: 600, kills: 1, sigtermKills: 0 };

async function chaosModel(): Promise<string> {
  const file = path.join(REPO, 'models/cache/chaos/tiny-sequence-classification-hf-s1234.onnx');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    await generateModel({ preset: 'tiny', head: 'sequence-classification', signature: 'hf', seed: 1234, out: file });
  }
  return file;
}

/** The fault schedule: kills spread between the other faults, each at a growing share of the work. */
function schedule(o: ChaosOptions): FaultKind[] {
  const faults: FaultKind[] = [];
  const others: FaultKind[] = [
    ...Array<FaultKind>(o.redisRestarts).fill('redis-restart'),
    ...Array<FaultKind>(o.pauses).fill('client-pause'),
    ...Array<FaultKind>(o.sigtermKills).fill('sigterm-then-sigkill'),
  ];
  let kills = o.kills;
  while (kills > 0 || others.length) {
    if (kills-- > 0) faults.push('sigkill');
    const next = others.shift();
    if (next) faults.push(next);
  }
  return faults;
}

/**
 * Lets the producer read only as many input lines as allowed so far: the run feeds one segment
 * of the input per fault, so each fault meets a backlog (busy workers holding jobs), whatever
 * this machine's speed.
 */
class Gate {
  #allowed = 0;
  #passed = 0;
  #wake: (() => void) | undefined;

  get passed(): number {
    return this.#passed;
  }

  allow(n: number): void {
    this.#allowed += n;
    this.#wake?.();
  }

  /** Every line let in so far has been read: the producer waits for more. */
  get dry(): boolean {
    return this.#passed >= this.#allowed;
  }

  async pass(): Promise<void> {
    while (this.#passed >= this.#allowed) await new Promise<void>((r) => { this.#wake = r; });
    this.#passed++;
  }
}

/** One input file through the normal producer, gated; rejected lines go to `<file>.rejected.jsonl`. */
async function produce(file: string, redisUrl: string, queue: string, gate: Gate): Promise<EnqueueSummary> {
  const reader = readFile(file);
  async function* paced(): AsyncGenerator<ReadItem> {
    for await (const item of reader) {
      await gate.pass();
      yield item;
    }
  }
  // One job per addBulk: a chunk must never wait at the gate half sent (~1 ms per round trip here).
  const producer = new DocumentProducer({ redisUrl, queue, chunkSize: 1, errorsOut: `${file}.rejected.jsonl` });
  try {
    await producer.open();
    return await producer.enqueue(paced(), reader.stats, reader.sizeBytes);
  } finally {
    reader.destroy();
    await producer.close();
  }
}

/**
 * A kill's stalled jobs are the ones its worker held when it was killed, whenever their stall is
 * reported (on a loaded machine that can come after the next fault). Any other stalled-job
 * event belongs to the last fault before it. A fault's recovery time runs from the fault to the
 * latest result time (finishedAt) of its stalled jobs (all finished by now).
 */
function measureRecoveries(faults: FaultRecord[], stalls: StallEvent[], finishedAt: Map<string, number>): void {
  const heldByKills = new Set(faults.flatMap((f) => f.heldJobIds ?? []));
  for (let i = 0; i < faults.length; i++) {
    const f = faults[i];
    const until = faults[i + 1]?.at ?? Infinity;
    const held = f.heldJobIds && new Set(f.heldJobIds);
    const mine = held
      ? stalls.filter((s) => s.at >= f.at && held.has(s.jobId))
      : stalls.filter((s) => s.at >= f.at && s.at < until && !heldByKills.has(s.jobId));
    const ids = [...new Set(mine.map((s) => s.jobId))];
    f.stalled = ids.length;
    if (!ids.length) continue;
    f.firstStallAfterMs = Math.min(...mine.map((s) => s.at)) - f.at;
    const finishedOn = ids.map((id) => finishedAt.get(id) ?? Infinity);
    f.recoveryMs = Math.max(...finishedOn) - f.at;
  }
}

/**
 * The worker a kill fault ends, and the ids of the jobs it holds: the preferred (round-robin)
 * worker when it holds jobs, else the one holding most. A kill of a worker that holds nothing
 * tests nothing, and on a fast or loaded machine the fleet can drain all the gate let in before
 * the kill comes (CI once saw a kill with nothing to recover): then one more worker-load of
 * input is let in, until some worker holds jobs or 30 s have passed.
 *
 * The worker is returned stopped (SIGSTOP), its held jobs read again while it cannot finish
 * them: it often holds only 1 or 2 jobs, and read while it ran they could complete before the
 * kill landed, leaving a kill with nothing to recover (CI saw that too). The caller kills it,
 * or sends SIGCONT first for a SIGTERM.
 */
async function workerToKill(queue: Queue, fleet: WorkerFleet, preferred: FleetWorker, gate: Gate): Promise<{ worker: FleetWorker; held: string[]; extraLines: number }> {
  const deadline = Date.now() + 30_000;
  let extraLines = 0;
  // BullMQ records each active job's worker name: the --worker-id.
  const heldBy = async (w: FleetWorker) => (await queue.getActive(0, -1)).filter((j) => j.processedBy === w.id).map((j) => j.id!);
  for (;;) {
    const active = await queue.getActive(0, -1);
    const held = (w: FleetWorker) => active.filter((j) => j.processedBy === w.id).map((j) => j.id!);
    let worker = preferred;
    let ids = held(preferred);
    if (!ids.length) {
      for (const w of fleet.live) {
        const mine = held(w);
        if (mine.length > ids.length) [worker, ids] = [w, mine];
      }
    }
    if (ids.length) {
      worker.child.kill('SIGSTOP');
      ids = await heldBy(worker);
      if (ids.length) return { worker, held: ids, extraLines };
      worker.child.kill('SIGCONT');
    }
    if (Date.now() >= deadline) return { worker, held: ids, extraLines };
    if (gate.dry && (await queue.getWaitingCount()) === 0) {
      gate.allow(WORKER_CONCURRENCY);
      extraLines += WORKER_CONCURRENCY;
    }
    await sleep(5);
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const say = opts.onProgress ?? (() => {});
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-chaos-'));
  const queue = 'chaos';
  const tokenizerDir = path.join(REPO, 'models/sample-tokenizer');
  const corpus: ChaosCorpus = writeChaosCorpus(dir, {
    documents: opts.documents, sentencesFile: path.join(tokenizerDir, 'sample-reviews.txt'), workerMaxDocBytes: opts.workerMaxDocBytes,
  });
  const model = await chaosModel();
  say(`corpus: ${corpus.good.size} documents + ${corpus.planted.length} planted bad inputs in ${dir}`);
  const reference = await referenceLogits(model, tokenizerDir, corpus.good);
  say(`reference: ${reference.size} documents scored alone by OnnxEngine`);

  const redis = await RedisServer.start({ appendonly: true, dirPrefix: 'rb-chaos-redis-' });
  const connection = bullConnection(redis.url);
  const mainQueue = new Queue(queue, { connection });
  mainQueue.on('error', () => {});
  const fleet = new WorkerFleet([
    '--queue', queue, '--model', model, '--tokenizer', tokenizerDir, '--metrics-port', '0', '--skip-hash',
    // A small window per worker (3 batches) spreads each segment over all workers, so that
    // every killed worker holds jobs; the default window (32 batches) lets one worker take it all.
    '--intra-op-threads', '1', '--max-batch-size', String(WORKER_MAX_BATCH), '--concurrency', String(WORKER_CONCURRENCY), '--max-wait-ms', '200',
    '--lock-duration-ms', String(opts.lockDurationMs), '--stalled-interval-ms', String(opts.stalledIntervalMs),
    '--max-stalled-count', String(opts.maxStalledCount), '--max-doc-bytes', String(opts.workerMaxDocBytes), '--shutdown-grace-ms', '5000',
  ], { REDIS_URL: redis.url });
  const out = path.join(dir, 'results.jsonl');
  const exporter = new ResultsExporter({ redisUrl: redis.url, queue, prefix: 'bull', out });
  // Finished jobs leave Redis (only their documents' markers stay): recovery times come from
  // the exported records' finishedAt, by job id (one document per job).
  const finishedAt = new Map<string, number>();
  exporter.onRecord = (rec) => finishedAt.set(jobIdForDocument(rec.id), Date.parse(rec.finishedAt));
  const faults: FaultRecord[] = [];
  const summaries: EnqueueSummary[] = [];
  let finalCounts: Record<string, number> = {};
  try {
    for (let i = 0; i < opts.workers; i++) fleet.spawn();
    await Promise.all(fleet.live.map((w) => w.ready));
    say(`redis ${redis.url} (appendonly, noeviction), ${opts.workers} workers ready`);
    await exporter.start();
    const gate = new Gate();
    const producing = (async () => {
      for (const file of [corpus.jsonl, corpus.csv]) summaries.push(await produce(file, redis.url, queue, gate));
    })();
    producing.catch(() => {});
    const workerFailures = corpus.planted.filter((p) => p.expect === 'failed-by-worker').length;
    const expectedJobs = corpus.good.size + workerFailures;
    // Documents exported (results and failures): completed jobs are removed from Redis.
    const finished = async () => exporter.exported;

    const plan = schedule(opts);
    const segment = Math.ceil(corpus.lines / (plan.length + 1));
    // A kill's jobs stall one lock later: the next segment (and fault) waits that long, so each
    // stall is attributed to the fault that caused it (the last one before it).
    const spacingMs = opts.lockDurationMs + 3 * opts.stalledIntervalMs;
    for (let i = 0; i < plan.length; i++) {
      const kind = plan[i];
      const before = await finished();
      gate.allow(segment);
      // 30% of the segment done: the rest is still queued or in the workers' batches.
      const deadline = Date.now() + 120_000;
      let done = before;
      while (done < before + 0.3 * segment && Date.now() < deadline) {
        await sleep(20);
        done = await finished();
      }
      const rec: FaultRecord = { kind, at: Date.now(), atFinished: done, of: expectedJobs, stalled: 0 };
      if (kind === 'sigkill' || kind === 'sigterm-then-sigkill') {
        let victim = fleet.live[i % fleet.live.length];
        // "Shortly after a batch starts": wait for the victim's next "batch done" line; its next
        // batch is then filling (--max-wait-ms) with jobs it holds, and runs.
        const seen = victim.lastBatchAt;
        const waitFrom = Date.now();
        while (victim.lastBatchAt === seen && Date.now() - waitFrom < 5_000) await sleep(2);
        await sleep(15);
        const target = await workerToKill(mainQueue, fleet, victim, gate);
        victim = target.worker;
        rec.heldJobIds = target.held;
        rec.worker = victim.id;
        if (target.extraLines) say(`the workers had drained their input: ${target.extraLines} more lines let in so that the kill meets held jobs`);
        rec.at = Date.now();
        if (kind === 'sigkill') victim.child.kill('SIGKILL');
        else {
          // A stopped process would keep the SIGTERM pending: resume it, then ask it to drain.
          victim.child.kill('SIGCONT');
          victim.child.kill('SIGTERM');
          await sleep(200);
          victim.child.kill('SIGKILL');
        }
        rec.exitedWith = await victim.exited;
        fleet.spawn();
      } else if (kind === 'redis-restart') {
        await redis.kill();
        await sleep(1_000);
        await redis.start();
        rec.downMs = Date.now() - rec.at;
      } else {
        rec.pauseMs = opts.lockDurationMs + 1_500;
        const admin = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 3 });
        admin.on('error', () => {});
        await admin.connect();
        await admin.call('CLIENT', 'PAUSE', String(rec.pauseMs), 'ALL');
        admin.disconnect();
        await sleep(rec.pauseMs);
      }
      faults.push(rec);
      say(`fault ${i + 1}/${plan.length}: ${kind}${rec.worker ? ` ${rec.worker}` : ''} at ${rec.atFinished}/${rec.of} jobs finished (recovery is measured at the end)`);
      await sleep(Math.max(0, rec.at + spacingMs - Date.now()));
    }
    gate.allow(Infinity);

    await producing;
    const deadline = Date.now() + 300_000;
    let idle = 0;
    while (idle < 3 && Date.now() < deadline) {
      const c = await mainQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      idle = Object.values(c).every((n) => n === 0) ? idle + 1 : 0;
      await sleep(200);
    }
    await exporter.waitUntilDrained();
    const orphans = await exporter.recordFailedJobsWithoutResult();
    if (orphans) say(`${orphans} failed jobs without a result record recorded as failures`);
    finalCounts = await mainQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
    measureRecoveries(faults, fleet.stalls, finishedAt);
  } finally {
    await exporter.close();
    await fleet.stopAll();
    await mainQueue.close().catch(() => {});
    await redis.stop();
  }

  const records = [out, exporter.errorsOut].flatMap((f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []))
    .map((l) => JSON.parse(l) as ResultRecord);
  const report = checkInvariants({
    corpus, reference, records, summaries, faults, finalCounts,
    stalledEvents: fleet.stalls.length, stackTraces: fleet.stackTraces, elapsedMs: performance.now() - t0, workers: opts.workers,
  });
  if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  else report.dir = dir;
  logger().flush?.();
  return report;
}

export function describeFault(f: FaultRecord): string {
  const where = `at ${f.atFinished}/${f.of} jobs finished`;
  const rec = f.recoveryMs === undefined
    ? 'no job stalled'
    : `${f.stalled} jobs stalled (first reported ${(f.firstStallAfterMs! / 1000).toFixed(1)} s after), all completed ${(f.recoveryMs / 1000).toFixed(1)} s after the fault`;
  switch (f.kind) {
    case 'sigkill':
      return `SIGKILL ${f.worker} ${where}: ${rec}`;
    case 'sigterm-then-sigkill':
      return `SIGTERM, SIGKILL 200 ms later, ${f.worker} ${where} (ended by ${f.exitedWith}): ${rec}`;
    case 'redis-restart':
      return `Redis SIGKILL + restart from AOF ${where}, down ${f.downMs} ms: ${rec}`;
    case 'client-pause':
      return `CLIENT PAUSE ${f.pauseMs} ms ALL ${where}: ${rec}`;
  }
}
