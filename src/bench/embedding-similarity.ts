/**
 * How far int8 moves the embeddings: the base-head model (last_hidden_state + pooler_output)
 * in float32 and int8 on the same length-sorted batches of 32; cosine similarity per document
 * of the mean-pooled vectors and of pooler_output.
 */
import { OnnxEngine } from '../worker/engine.js';
import { ENGINE_DEFAULTS } from './ceiling.js';
import type { EncodedCorpus } from './corpus.js';
import { cosine, lengthSortedBatches } from './stats.js';

export interface SimilarityResult {
  docs: number;
  meanPooled: { mean: number; min: number };
  pooler: { mean: number; min: number };
}

async function vectors(model: string, corpus: EncodedCorpus, pooling: 'mean' | 'pooler'): Promise<Float32Array[]> {
  const engine = await OnnxEngine.open(model, ENGINE_DEFAULTS);
  const out: Float32Array[] = new Array(corpus.ids.length);
  try {
    for (const b of lengthSortedBatches(corpus.lengths, 32)) {
      const seq = Math.max(...b.map((i) => corpus.lengths[i]));
      const ids = new Int32Array(b.length * seq).fill(1);
      const lengths = new Int32Array(b.length);
      b.forEach((d, r) => { ids.set(corpus.ids[d], r * seq); lengths[r] = corpus.lengths[d]; });
      const res = await engine.run({ rows: b.length, seq, ids, lengths, pooling });
      b.forEach((d, r) => { out[d] = res.data.slice(r * res.width, (r + 1) * res.width); });
    }
  } finally {
    await engine.close();
  }
  return out;
}

export async function measureEmbeddingSimilarity(fp32: string, int8: string, corpus: EncodedCorpus): Promise<SimilarityResult> {
  const summary = async (pooling: 'mean' | 'pooler') => {
    const a = await vectors(fp32, corpus, pooling);
    const b = await vectors(int8, corpus, pooling);
    const cs = a.map((v, i) => cosine(v, b[i]));
    return { mean: cs.reduce((x, y) => x + y, 0) / cs.length, min: Math.min(...cs) };
  };
  return { docs: corpus.ids.length, meanPooled: await summary('mean'), pooler: await summary('pooler') };
}
