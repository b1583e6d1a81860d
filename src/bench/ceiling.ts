/**
 * (a) The ceiling: onnxruntime alone, no queue. The whole corpus is tokenized beforehand and
 * sorted by length, then run in batches of 32 through OnnxEngine on this thread: the fastest
 * these documents can go through this model with these session settings.
 */
import { OnnxEngine, type EngineOptions } from '../worker/engine.js';
import type { EncodedCorpus } from './corpus.js';
import { lengthSortedBatches, paddedTokens, type Throughput } from './stats.js';

export const ENGINE_DEFAULTS: EngineOptions = { device: { kind: 'cpu' }, graphOptimization: 'all', intraOpThreads: 0, interOpThreads: 0, skipHash: true };

export async function measureCeiling(model: string, corpus: EncodedCorpus, opts: { batchSize?: number; engine?: Partial<EngineOptions>; padId?: number } = {}): Promise<Throughput> {
  const size = opts.batchSize ?? 32;
  const padId = opts.padId ?? 1;
  const engine = await OnnxEngine.open(model, { ...ENGINE_DEFAULTS, ...opts.engine });
  try {
    const batches = lengthSortedBatches(corpus.lengths, size);
    // One warm-up batch: the first run allocates the arena and is not representative.
    await runBatch(engine, corpus, batches[Math.floor(batches.length / 2)], padId);
    let padded = 0;
    const t0 = performance.now();
    for (const b of batches) {
      await runBatch(engine, corpus, b, padId);
      padded += paddedTokens(b, corpus.lengths);
    }
    return { docs: corpus.ids.length, usefulTokens: corpus.usefulTokens, paddedTokens: padded, batches: batches.length, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await engine.close();
  }
}

async function runBatch(engine: OnnxEngine, corpus: EncodedCorpus, batch: number[], padId: number): Promise<void> {
  const seq = Math.max(...batch.map((i) => corpus.lengths[i]));
  const ids = new Int32Array(batch.length * seq).fill(padId);
  const lengths = new Int32Array(batch.length);
  batch.forEach((d, r) => {
    ids.set(corpus.ids[d], r * seq);
    lengths[r] = corpus.lengths[d];
  });
  await engine.run({ rows: batch.length, seq, ids, lengths });
}
