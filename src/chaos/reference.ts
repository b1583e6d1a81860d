/**
 * Fault-free reference results: each good document scored alone by OnnxEngine in this process
 * (no queue, no batching), so a result attached to the wrong document cannot match.
 */
import { OnnxEngine } from '../worker/engine.js';
import { RobertaTokenizer } from '../model/tokenizer.js';

export async function referenceLogits(modelFile: string, tokenizerDir: string, docs: Map<string, string>): Promise<Map<string, Float32Array>> {
  const tokenizer = await RobertaTokenizer.fromDir(tokenizerDir, { maxLength: 512 });
  const engine = await OnnxEngine.open(modelFile, { device: { kind: 'cpu' }, graphOptimization: 'all', intraOpThreads: 1, interOpThreads: 1, skipHash: true });
  const out = new Map<string, Float32Array>();
  try {
    const ids = [...docs.keys()];
    for (let i = 0; i < ids.length; i += 256) {
      const slice = ids.slice(i, i + 256);
      const encoded = await tokenizer.encodeBatch(slice.map((id) => docs.get(id)!));
      for (let j = 0; j < slice.length; j++) {
        const e = encoded[j].ids;
        const res = await engine.run({ rows: 1, seq: e.length, ids: Int32Array.from(e), lengths: Int32Array.of(e.length) });
        out.set(slice[j], res.data.slice(0, res.width));
      }
    }
  } finally {
    await engine.close();
  }
  return out;
}
