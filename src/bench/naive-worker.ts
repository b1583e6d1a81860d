/**
 * (c) The peer baseline: the BullMQ worker most people write first. One job per document,
 * one `session.run` per job, the session on the same thread as BullMQ (its event loop waits
 * while the run computes), the result published to the results queue. Same model, same
 * tokenizer, same documents as roberta-batch: only the per-document run differs.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { resultsQueueName } from '../shared/queues.js';
import { bullConnection } from '../shared/redis.js';
import { sleep } from '../shared/util.js';
import { OnnxEngine } from '../worker/engine.js';
import { RobertaTokenizer } from '../model/tokenizer.js';
import { ENGINE_DEFAULTS } from './ceiling.js';
import type { BenchDoc, EncodedCorpus } from './corpus.js';
import { addJobs, benchQueueName, removeBenchQueues } from './queues.js';
import type { Throughput } from './stats.js';

export class NaiveWorker {
  #engine: OnnxEngine;
  #tokenizer: RobertaTokenizer;
  #results: Queue;
  #worker: Worker<BenchDoc>;
  done = 0;

  private constructor(engine: OnnxEngine, tokenizer: RobertaTokenizer, redisUrl: string, queue: string) {
    this.#engine = engine;
    this.#tokenizer = tokenizer;
    const connection = bullConnection(redisUrl);
    this.#results = new Queue(resultsQueueName(queue), { connection });
    this.#worker = new Worker<BenchDoc>(queue, (job) => this.#process(job), { connection, concurrency: 1, autorun: true });
    this.#worker.on('completed', () => { this.done++; });
  }

  static async start(model: string, tokenizerDir: string, redisUrl: string, queue: string): Promise<NaiveWorker> {
    const engine = await OnnxEngine.open(model, ENGINE_DEFAULTS);
    const tokenizer = await RobertaTokenizer.fromDir(tokenizerDir, { maxLength: 512 });
    const w = new NaiveWorker(engine, tokenizer, redisUrl, queue);
    await w.#worker.waitUntilReady();
    return w;
  }

  async #process(job: Job<BenchDoc>): Promise<void> {
    const { ids } = await this.#tokenizer.encode(job.data.text);
    const out = await this.#engine.run({ rows: 1, seq: ids.length, ids, lengths: Int32Array.of(ids.length) });
    await this.#results.add('result', { id: job.data.id, logits: Array.from(out.data) }, { jobId: job.data.id });
  }

  async close(): Promise<void> {
    await this.#worker.close();
    await this.#results.close();
    await this.#engine.close();
  }
}

export async function measureNaive(model: string, tokenizerDir: string, redisUrl: string, docs: BenchDoc[], corpus: EncodedCorpus): Promise<Throughput> {
  const name = benchQueueName('naive');
  const queue = new Queue(name, { connection: bullConnection(redisUrl) });
  let worker: NaiveWorker | undefined;
  try {
    await queue.pause();
    await addJobs(queue, docs.map((d) => ({ name: 'doc', data: d, opts: { jobId: d.id } })));
    worker = await NaiveWorker.start(model, tokenizerDir, redisUrl, name);
    const t0 = performance.now();
    await queue.resume();
    while (worker.done < docs.length) await sleep(20);
    return { docs: docs.length, usefulTokens: corpus.usefulTokens, paddedTokens: corpus.usefulTokens, batches: docs.length, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await worker?.close();
    await queue.close();
    await removeBenchQueues(redisUrl, name);
  }
}
