import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/model/config.js';
import { buildModel } from '../../src/model/generate.js';
import { DataType, encodeModelToBuffer } from '../../src/model/onnx-proto.js';
import { readOnnxSummary } from '../../src/model/summary.js';
import { testModel } from '../helpers/models.js';

describe('readOnnxSummary on generated models', () => {
  it('reports the zoo classifier as one int64 `input` and `output` logits [batch_size, 2]', async () => {
    const s = await readOnnxSummary((await testModel('sequence-classification', 'zoo')).path);
    expect(s.inputs).toEqual([{ name: 'input', elemType: 'int64', dims: ['batch_size', 'sentence_length'] }]);
    expect(s.outputs).toEqual([{ name: 'output', elemType: 'float32', dims: ['batch_size', 2] }]);
    expect(s).toMatchObject({ irVersion: 6, opsets: [{ domain: '', version: 11 }], wordEmbeddingRows: 50265, positionEmbeddingRows: 514 });
    expect(s.metadata).toMatchObject({ 'roberta_batch.generated': 'true', 'roberta_batch.preset': 'tiny', 'roberta_batch.seed': '1234' });
  });

  it('reports the zoo encoder as `input_ids` → `output_1`, `output_2`', async () => {
    const s = await readOnnxSummary((await testModel('base', 'zoo')).path);
    expect(s.inputs).toEqual([{ name: 'input_ids', elemType: 'int64', dims: ['batch_size', 'seq_len'] }]);
    expect(s.outputs).toEqual([
      { name: 'output_1', elemType: 'float32', dims: ['batch_size', 'seq_len', 64] },
      { name: 'output_2', elemType: 'float32', dims: ['batch_size', 64] },
    ]);
  });

  it('reports hf models with input_ids + attention_mask and Optimum output names', async () => {
    const cls = await readOnnxSummary((await testModel('sequence-classification', 'hf')).path);
    const enc = await readOnnxSummary((await testModel('base', 'hf')).path);
    for (const s of [cls, enc]) {
      expect(s.inputs).toEqual([
        { name: 'input_ids', elemType: 'int64', dims: ['batch_size', 'sequence_length'] },
        { name: 'attention_mask', elemType: 'int64', dims: ['batch_size', 'sequence_length'] },
      ]);
      expect(s.wordEmbeddingRows).toBe(50265);
    }
    expect(cls.outputs.map((o) => o.name)).toEqual(['logits']);
    expect(enc.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);
  });
});

describe('readOnnxSummary on a zoo-like file', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'rb-summary-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('ignores initializers listed as inputs (IR < 4) and finds tables behind Identity nodes', async () => {
    const config = { ...PRESETS.tiny, vocabSize: 1000, numLayers: 1 };
    const model = buildModel(config, { head: 'sequence-classification', signature: 'zoo', seed: 1 });
    const graph = model.graph!;
    model.irVersion = 3;
    model.opsetImport = [{ domain: '', version: 9 }];
    model.metadataProps = [];
    for (const t of graph.initializer) graph.input.push({ name: t.name, type: { tensorType: { elemType: t.dataType, shape: t.dims.map((d) => ({ dimValue: d })) } } });
    const gather = graph.node.find((n) => n.opType === 'Gather' && n.input[0].includes('word_embeddings'))!;
    graph.node.unshift({ name: 'tied', opType: 'Identity', domain: '', input: [gather.input[0]], output: ['tied_word_embeddings'], attribute: [] });
    gather.input[0] = 'tied_word_embeddings';
    graph.initializer.push({ name: 'unrelated_int_table', dims: [7, 3], dataType: DataType.INT64, int64Data: Array<number>(21).fill(0) });
    const file = path.join(dir, 'zoo-like.onnx');
    await writeFile(file, encodeModelToBuffer(model));

    const s = await readOnnxSummary(file);

    expect(s.inputs.map((i) => i.name)).toEqual(['input']);
    expect(s.metadata).toEqual({});
    expect(s.wordEmbeddingRows).toBe(1000);
    expect(s.positionEmbeddingRows).toBe(514);
  });
});
