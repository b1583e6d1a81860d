/**
 * Drains the results queue into JSON Lines files: successes to `out`, failures to
 * `errorsOut` (default `<out>.errors.jsonl`). Each document id is written exactly once, also
 * across exporter restarts: the ids already in the files are read back at start, and a result
 * job leaves Redis only once its records are durable outside it.
 *
 * Result jobs (one per document job, its records inside, see docs/OUTPUT.md) are read in bulk
 * straight from the queue's wait list, oldest first: LRANGE for up to 512 job ids, one
 * pipelined HGET per job for its data, one write and one fdatasync per output file, then one
 * script that deletes the jobs (LREM from the list's tail, DEL the job keys). None of these
 * commands can be refused by a full Redis (reads and deletions only), so an exporter frees
 * memory even while producers and workers are waiting on E_REDIS_OOM.
 *
 * Successes can go to another `RecordSink` instead (the Parquet writer). A sink that makes
 * records durable only when it closes (a Parquet file is readable once its footer is written
 * and the file renamed into place) sets `durableOnClose`: its jobs stay in the wait list, read
 * past by position, and are deleted after close(). If the exporter dies first they are still
 * in Redis, and the next start writes the ones whose ids are not in the output again.
 * One roberta-batch exporter per results queue: two would both read the same jobs.
 */
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { Queue, type ConnectionOptions } from 'bullmq';
import { decodeFailedReason } from '../shared/errors.js';
import { failedRecord, type RecordSetup } from '../shared/failed-record.js';
import { logger } from '../shared/logger.js';
import { documentIdFromJobId } from '../shared/job-id.js';
import { addMarkerWrites, failedMarker } from '../shared/done-markers.js';
import { queueOptions, resultsQueueName } from '../shared/queues.js';
import { bullConnection, connect, type RedisClient } from '../shared/redis.js';
import { isOomError, OomReporter } from '../shared/redis-oom.js';
import { recordsOf } from '../shared/result-job.js';
import type { FailedRecord, OkRecord, ResultRecord } from '../shared/types.js';

/** Where successful records go when they do not go to the JSON Lines `out` file. */
export interface RecordSink {
  /** Adds the ids already in the output to `seen` (exactly once across restarts). */
  open(seen: Set<string>): Promise<void>;
  /** Takes a record; with `durableOnClose`, it is durable only once close() resolved. */
  write(rec: OkRecord): Promise<void>;
  /** Completes the output (for Parquet: last row group, footer, rename into place). Idempotent. */
  close(): Promise<void>;
  /** Records are durable only after close(): their result jobs stay in Redis until then. */
  readonly durableOnClose: boolean;
}

export interface ExportOptions {
  redisUrl: string;
  queue: string;
  prefix: string;
  resultsQueue?: string;
  out: string;
  errorsOut?: string;
  /** Successful records go here instead of the JSON Lines `out` (failures still go to `errorsOut`). */
  sink?: RecordSink;
  /**
   * Longest wait of an idle exporter, ms (default 100): it waits on the results queue's event
   * stream and reads again as soon as a result job is added, else after this.
   */
  pollMs?: number;
}

export interface ExportCounts {
  ok: number;
  failed: number;
  duplicatesSkipped: number;
}

export function errorsPathFor(out: string): string {
  return out.replace(/\.(jsonl|parquet)$/, '') + '.errors.jsonl';
}

async function readIds(file: string, into: Set<string>, onRecord?: (rec: Partial<ResultRecord>) => void): Promise<void> {
  if (!existsSync(file)) return;
  const rl = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as Partial<ResultRecord>;
      if (typeof rec.id === 'string') into.add(rec.id);
      onRecord?.(rec);
    } catch {
      // A torn last line from a crash mid-write: the record is re-exported from Redis.
    }
  }
}

/** True when the file is not empty and its last byte is not a newline (a line torn by a crash). */
function endsTorn(file: string): boolean {
  if (!existsSync(file) || statSync(file).size === 0) return false;
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, statSync(file).size - 1);
    return b[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * An append-only JSON Lines file: lines collect in memory, sync() writes them in one call and
 * fdatasyncs, so a batch is on disk before its result jobs are deleted from Redis.
 */
class LineFile {
  #file: FileHandle;
  #lines: string[] = [];

  private constructor(file: FileHandle) {
    this.#file = file;
  }

  static async open(file: string): Promise<LineFile> {
    // A line torn by a crash would run into the first line appended now: end it first.
    const torn = endsTorn(file);
    const f = new LineFile(await open(file, 'a'));
    if (torn) f.add('');
    return f;
  }

  add(line: string): void {
    this.#lines.push(line);
  }

  async sync(): Promise<void> {
    if (!this.#lines.length) return;
    const text = this.#lines.join('\n') + '\n';
    this.#lines = [];
    await this.#file.write(text);
    await this.#file.datasync();
  }

  async close(): Promise<void> {
    await this.sync();
    await this.#file.close();
  }
}

/**
 * Deletes result jobs: KEYS[1] the wait list, ARGV[1] the job key prefix, ARGV[2..] job ids.
 * LREM with count -1 searches from the tail, where the oldest jobs (those read) are, so each
 * removal is O(1) in practice. Only LREM and DEL: a full Redis accepts them.
 */
const DELETE_RESULTS = `
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  n = n + redis.call('LREM', KEYS[1], -1, id)
  redis.call('DEL', ARGV[1] .. id, ARGV[1] .. id .. ':logs')
end
return n`;

/**
 * Deletes failed document jobs whose failure is now durable in the errors file: KEYS[1] the
 * failed set, ARGV[1] the job key prefix, ARGV[2..] job ids. ZREM and DEL only.
 */
const DELETE_FAILED = `
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('DEL', ARGV[1] .. id, ARGV[1] .. id .. ':logs')
    n = n + 1
  end
end
return n`;

/** Records per read (jobs per read = this / records per job seen so far, 1 .. 512). */
const RECORDS_PER_READ = 2_048;
const MAX_JOBS_PER_READ = 512;
/**
 * After a wake-up, the exporter waits this long (ms) before it reads, so that a busy results
 * queue is read in batches: read at every publish (a worker flushes every ~5 ms), the exporter
 * took 12-14 µs of CPU per document instead of 8-9 and the pipeline ceiling lost 7 % on 2 cores
 * (bench --only ceiling --baseline-cli, 3 rounds). The last results of a run wait at most this.
 */
const WAKE_LINGER_MS = 20;

/** How often an idle exporter looks for failed document jobs (ms). */
const SWEEP_EVERY_MS = 10_000;

interface ReadJob {
  id: string;
  records: ResultRecord[];
}

export class ResultsExporter {
  readonly counts: ExportCounts = { ok: 0, failed: 0, duplicatesSkipped: 0 };
  readonly seen = new Set<string>();
  /** Called for every record written (not for skipped duplicates). */
  onRecord: ((rec: ResultRecord) => void) | undefined;
  #opts: ExportOptions;
  #connection: ConnectionOptions;
  #client: RedisClient | undefined;
  /** Its own connection: XREAD BLOCK holds the connection it runs on. */
  #blocking: RedisClient | undefined;
  /** The newest event of the results queue's stream when the wait list was last read. */
  #eventsId: string | undefined;
  #okFile: LineFile | undefined;
  #errFile: LineFile | undefined;
  #resultsName: string;
  /** Result jobs whose records a durableOnClose sink holds: still in the wait list, at its tail. */
  #held: string[] = [];
  #recordsPerJob = 1;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #idle = false;
  #wake: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #listeners: (() => void)[] = [];
  #oom: OomReporter;
  #lastSweep = 0;
  /**
   * Model and task of the queue's workers, from the last record read (results queue or the
   * output files): one results queue holds one task and model (docs/OUTPUT.md), and a failed
   * job without a result carries neither in its data.
   */
  #setup: RecordSetup = { model: { name: 'unknown', sha256: 'unknown' }, task: 'unknown', workerId: 'exporter' };

  constructor(opts: ExportOptions) {
    this.#opts = opts;
    this.#connection = bullConnection(opts.redisUrl);
    this.#resultsName = resultsQueueName(opts.queue, opts.resultsQueue);
    this.#oom = new OomReporter('exporter', logger(), () => this.#client);
  }

  get errorsOut(): string {
    return this.#opts.errorsOut ?? errorsPathFor(this.#opts.out);
  }

  get exported(): number {
    return this.counts.ok + this.counts.failed;
  }

  #key(queue: string, suffix: string): string {
    return `${this.#opts.prefix}:${queue}:${suffix}`;
  }

  async start(): Promise<void> {
    mkdirSync(path.dirname(path.resolve(this.#opts.out)), { recursive: true });
    const sink = this.#opts.sink;
    const learn = (rec: Partial<ResultRecord>) => this.#learnSetup(rec);
    if (sink) await sink.open(this.seen);
    else await readIds(this.#opts.out, this.seen, learn);
    await readIds(this.errorsOut, this.seen, learn);
    if (!sink) this.#okFile = await LineFile.open(this.#opts.out);
    this.#errFile = await LineFile.open(this.errorsOut);
    const client = connect(this.#opts.redisUrl);
    client.on('error', (err) => logger().warn({ reason: err.message }, 'results exporter: Redis error (reconnecting)'));
    await client.connect();
    this.#client = client;
    const blocking = connect(this.#opts.redisUrl);
    // Its failures only make the idle wait a plain sleep (see #waitForResults); the main client logs.
    blocking.on('error', () => {});
    await blocking.connect().catch(() => {});
    this.#blocking = blocking;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let n = 0;
      try {
        n = await this.#exportBatch();
      } catch (err) {
        if (this.#stopping) break;
        logger().warn({ reason: (err as Error).message }, 'results exporter: batch failed, retrying');
        await this.#sleep(1_000);
        continue;
      }
      if (n === 0 && Date.now() - this.#lastSweep >= SWEEP_EVERY_MS) {
        // Idle: every result published before now has been read, so a failed document job
        // whose id is not exported has no record coming (it stalled out): record it.
        this.#lastSweep = Date.now();
        try {
          const orphans = await this.recordFailedJobsWithoutResult();
          if (orphans) logger().warn({ orphans }, 'results exporter: documents whose jobs failed without a result record were recorded as failures');
        } catch (err) {
          logger().warn({ reason: (err as Error).message }, 'results exporter: could not sweep failed jobs');
        }
      }
      this.#idle = n === 0;
      if (n === 0) {
        for (const l of this.#listeners) l();
        await this.#waitForResults(this.#opts.pollMs ?? 100);
      }
    }
  }

  /**
   * Idle: waits until the results queue's event stream (BullMQ's `<queue>:events`, where every
   * result job added leaves an `added` event) has an entry newer than the one read together with
   * the empty wait list, or `ms`. A publish then wakes the exporter within WAKE_LINGER_MS: with a
   * plain sleep the last results of a run waited up to 100 ms (~2.5 % of a 1,000-document int8
   * bench run). XREAD consumes nothing, so other readers of the stream (QueueEvents) are
   * unaffected.
   */
  async #waitForResults(ms: number): Promise<void> {
    const b = this.#blocking;
    if (!b || b.status !== 'ready' || this.#eventsId === undefined) return this.#sleep(ms);
    try {
      // BLOCK 0 would wait forever: at least 1 ms.
      const woken = await b.xread('BLOCK', Math.max(1, Math.round(ms)), 'STREAMS', this.#key(this.#resultsName, 'events'), this.#eventsId);
      if (woken && !this.#stopping) await this.#sleep(WAKE_LINGER_MS);
    } catch {
      if (!this.#stopping) await this.#sleep(ms);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.#wake = undefined; resolve(); }, ms);
      this.#wake = () => { clearTimeout(t); this.#wake = undefined; resolve(); };
    });
  }

  /** One read, write, sync, delete cycle; returns the number of result jobs read. */
  async #exportBatch(): Promise<number> {
    const client = this.#client!;
    const wait = this.#key(this.#resultsName, 'wait');
    const jobs = Math.max(1, Math.min(MAX_JOBS_PER_READ, Math.floor(RECORDS_PER_READ / this.#recordsPerJob)));
    const h = this.#held.length;
    // Oldest at the tail: the `jobs` oldest not held yet, oldest first. The newest event is read
    // first, in the same round trip: a result job added after that read has a newer event.
    const res = (await client.pipeline().xrevrange(this.#key(this.#resultsName, 'events'), '+', '-', 'COUNT', 1).lrange(wait, -(h + jobs), -(h + 1)).exec()) ?? [];
    const [[eventsErr, newest] = [null, []], [waitErr, waiting] = [null, []]] = res;
    if (waitErr) throw waitErr;
    // A stream the exporter may not read (an ACL without XREVRANGE) only makes the idle wait a sleep.
    this.#eventsId = eventsErr ? undefined : ((newest as [string, string[]][])[0]?.[0] ?? '0-0');
    const ids = [...(waiting as string[])].reverse();
    if (!ids.length) return 0;
    const p = client.pipeline();
    for (const id of ids) p.hget(this.#key(this.#resultsName, id), 'data');
    const datas = (await p.exec()) ?? [];
    const read: ReadJob[] = ids.map((id, i) => {
      const [err, data] = datas[i] ?? [null, null];
      if (err) throw err;
      let records: ResultRecord[] = [];
      try {
        records = data ? recordsOf(JSON.parse(data as string)) : [];
      } catch {
        logger().warn({ jobId: id }, 'results exporter: result job data is not JSON; deleted');
      }
      return { id, records };
    });
    let recordCount = 0;
    const deletable: string[] = [];
    const failedJobs: string[] = [];
    for (const job of read) {
      recordCount += job.records.length;
      let heldBySink = false;
      for (const rec of job.records) {
        this.#learnSetup(rec);
        if (this.seen.has(rec.id)) {
          this.counts.duplicatesSkipped++;
          continue;
        }
        if (rec.status === 'ok' && this.#opts.sink) heldBySink = true;
        // Only a sink's write is asynchronous: no microtask turn per record for JSON Lines.
        const pending = this.#write(rec);
        if (pending) await pending;
      }
      if (job.records.some((r) => r.status === 'failed')) failedJobs.push(job.id);
      if (heldBySink && this.#opts.sink?.durableOnClose) this.#held.push(job.id);
      else deletable.push(job.id);
    }
    this.#recordsPerJob = Math.max(1, recordCount / read.length);
    await Promise.all([this.#okFile?.sync(), this.#errFile?.sync()]);
    await this.#delete(deletable);
    // A failed document job (one bad document) keeps its text in Redis until its failure is here.
    await this.#deleteFailedJobs(failedJobs);
    for (const l of this.#listeners) l();
    logger().debug({ jobs: read.length, records: recordCount, held: this.#held.length }, 'results exporter: batch exported');
    return read.length;
  }

  #learnSetup(rec: Partial<ResultRecord>): void {
    if ((rec.task === 'sentiment' || rec.task === 'embed') && typeof rec.model?.name === 'string' && typeof rec.model.sha256 === 'string') {
      this.#setup = { model: { name: rec.model.name, sha256: rec.model.sha256 }, task: rec.task, workerId: 'exporter' };
    }
  }

  #write(rec: ResultRecord): Promise<void> | undefined {
    this.seen.add(rec.id);
    if (rec.status === 'ok' && this.#opts.sink) {
      return this.#opts.sink.write(rec).then(() => {
        this.counts.ok++;
        this.onRecord?.(rec);
      });
    }
    if (rec.status === 'ok') {
      this.#okFile!.add(JSON.stringify(rec));
      this.counts.ok++;
    } else {
      this.#errFile!.add(JSON.stringify(rec));
      this.counts.failed++;
    }
    this.onRecord?.(rec);
    return undefined;
  }

  async #delete(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1_000) {
      await this.#client!.eval(DELETE_RESULTS, 1, this.#key(this.#resultsName, 'wait'), this.#key(this.#resultsName, ''), ...ids.slice(i, i + 1_000));
    }
  }

  async #deleteFailedJobs(ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.#client!.eval(DELETE_FAILED, 1, this.#key(this.#opts.queue, 'failed'), this.#key(this.#opts.queue, ''), ...ids);
  }

  /** Writes a failure for a document that never reached the results queue (e.g. stalled out). */
  async recordOrphanFailure(rec: FailedRecord): Promise<boolean> {
    if (this.seen.has(rec.id)) return false;
    await this.#write(rec);
    await this.#errFile!.sync();
    return true;
  }

  /**
   * Documents whose job failed in the main queue without a record in the results queue
   * (BullMQ gave up on a job that stalled more than maxStalledCount times): recorded too, so
   * that every document ends with a result or a reason. Their markers are written and the
   * failed jobs deleted once the failures are in the errors file.
   */
  async recordFailedJobsWithoutResult(): Promise<number> {
    const q = this.#queue(this.#opts.queue);
    let n = 0;
    try {
      for (;;) {
        const jobs = await q.getFailed(0, 999);
        if (!jobs.length) break;
        const markers: { docId: string; value: string; keepDays?: number }[] = [];
        for (const job of jobs) {
          const data = job.data as { docs?: { id?: unknown; meta?: Record<string, unknown> }[]; keepDoneDays?: number };
          const docs = data?.docs ?? [];
          for (const d of docs) {
            const id = typeof d.id === 'string' ? d.id : documentIdFromJobId(job.id ?? '');
            // Without a code the job stalled out (BullMQ's own reason): an infrastructure give-up.
            const decoded = decodeFailedReason(job.failedReason);
            const code = decoded.code ?? 'E_INFERENCE';
            const added = await this.recordOrphanFailure(failedRecord({ id, meta: d.meta }, this.#setup, undefined, code, decoded.reason || 'job failed'));
            if (added) n++;
            markers.push({ docId: id, value: failedMarker(code), keepDays: data.keepDoneDays || undefined });
          }
        }
        const m = this.#client!.multi();
        addMarkerWrites(m, this.#opts.prefix, this.#opts.queue, markers);
        try {
          await m.exec();
          this.#oom.accepted();
        } catch (err) {
          // Not waited out here: the exporter must keep draining results (which frees memory);
          // the jobs stay failed and the next sweep records their markers.
          if (!isOomError(err)) throw err;
          await this.#oom.refused('writing failure markers');
          break;
        }
        await this.#deleteFailedJobs(jobs.map((j) => j.id!).filter(Boolean));
        if (jobs.length < 1000) break;
      }
    } finally {
      await q.close();
    }
    return n;
  }

  /** A Queue handle whose connection errors are logged (unheard, BullMQ prints each retry with a stack trace). */
  #queue(name: string): Queue {
    const q = new Queue(name, { connection: this.#connection, ...queueOptions(this.#opts.prefix) });
    q.on('error', (err) => logger().warn({ queue: name, reason: err.message }, 'results exporter: Redis error (reconnecting)'));
    return q;
  }

  /** Resolves once `n` distinct documents have been exported. */
  waitForCount(n: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.exported >= n) {
          this.#listeners = this.#listeners.filter((l) => l !== check);
          resolve();
        }
      };
      signal?.addEventListener('abort', () => reject(signal.reason));
      this.#listeners.push(check);
      check();
    });
  }

  /** Resolves when every result job in the queue has been read (held ones excepted). */
  async waitUntilDrained(pollMs = 200): Promise<void> {
    const wait = this.#key(this.#resultsName, 'wait');
    for (;;) {
      const len = await this.#client!.llen(wait);
      if (this.#idle && len <= this.#held.length) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping = true;
      this.#wake?.();
      // Ends a pending XREAD BLOCK at once.
      this.#blocking?.disconnect();
      await this.#loop;
      await Promise.all([this.#okFile?.close(), this.#errFile?.close()]);
      // After the loop: no write is in flight, so the sink's output holds every record read.
      try {
        await this.#opts.sink?.close();
        // Durable now (renamed into place): the held result jobs can leave Redis.
        if (this.#held.length) await this.#delete(this.#held.splice(0));
      } finally {
        this.#client?.disconnect();
      }
    })();
    return this.#closing;
  }
}
