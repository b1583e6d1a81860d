/**
 * (d) transformers.js (@huggingface/transformers, a devDependency): `pipeline('text-classification')`
 * on the same ONNX file, offline. The model folder it expects is laid out next to the cached
 * model (models/cache/bench/transformers-js/<name>/): config.json with RoBERTa fields and
 * id2label, tokenizer.json (+ tokenizer_config.json) and onnx/model.onnx (model_quantized.onnx
 * for int8, dtype q8), the ONNX files as symbolic links to the cached models.
 * Measured one text per call and with arrays of 32 in file order (as a caller would pass them);
 * if it cannot load, the reason is returned and the benchmark goes on without it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RobertaConfig } from '../model/config.js';
import type { BenchDoc } from './corpus.js';
import type { Precision } from './models.js';
import type { Throughput } from './stats.js';

export interface TransformersJsResult {
  ok: boolean;
  reason?: string;
  version?: string;
  single?: Throughput;
  batched?: Throughput;
}

/** A Hugging Face tokenizer.json for RoBERTa's byte-level BPE, from vocab.json + merges.txt. */
export function tokenizerJsonFromVocab(dir: string): object {
  const vocab = JSON.parse(readFileSync(path.join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(path.join(dir, 'merges.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#version')).map((l) => l.split(' '));
  const special = (content: string, lstrip = false) => ({ id: vocab[content], content, single_word: false, lstrip, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('<s>'), special('<pad>'), special('</s>'), special('<unk>'), special('<mask>', true)].filter((t) => t.id !== undefined),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', vocab['</s>']], cls: ['<s>', vocab['<s>']], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

export function layoutTransformersJsFolder(root: string, name: string, model: string, precision: Precision, tokenizerDir: string, config: RobertaConfig): string {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    model_type: 'roberta',
    architectures: ['RobertaForSequenceClassification'],
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    intermediate_size: config.intermediateSize,
    max_position_embeddings: config.maxPositions,
    type_vocab_size: config.typeVocabSize,
    layer_norm_eps: config.layerNormEps,
    pad_token_id: config.padTokenId,
    bos_token_id: 0,
    eos_token_id: 2,
    id2label: { 0: 'negative', 1: 'positive' },
    label2id: { negative: 0, positive: 1 },
  }, null, 2));
  const tokJson = path.join(tokenizerDir, 'tokenizer.json');
  writeFileSync(path.join(dir, 'tokenizer.json'), existsSync(tokJson) ? readFileSync(tokJson) : JSON.stringify(tokenizerJsonFromVocab(tokenizerDir)));
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({
    tokenizer_class: 'RobertaTokenizer', model_max_length: config.maxPositions - config.padTokenId - 1,
    bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', mask_token: '<mask>', cls_token: '<s>', sep_token: '</s>',
  }));
  const link = path.join(dir, 'onnx', precision === 'int8' ? 'model_quantized.onnx' : 'model.onnx');
  rmSync(link, { force: true });
  symlinkSync(path.resolve(model), link);
  return dir;
}

type Classifier = ((texts: string | string[]) => Promise<unknown>) & { dispose?: () => Promise<void> };

export async function measureTransformersJs(o: {
  cacheRoot: string; model: string; precision: Precision; tokenizerDir: string; config: RobertaConfig;
  singleDocs: BenchDoc[]; batchDocs: BenchDoc[]; singleTokens: number; batchTokens: number;
}): Promise<TransformersJsResult> {
  let tjs: typeof import('@huggingface/transformers');
  try {
    tjs = await import('@huggingface/transformers');
  } catch (err) {
    return { ok: false, reason: `@huggingface/transformers is not installed (${(err as Error).message.split('\n')[0]}): npm install (it is a devDependency)` };
  }
  const root = path.join(o.cacheRoot, 'transformers-js');
  const name = `roberta-bench-${o.precision}`;
  let classifier: Classifier;
  try {
    layoutTransformersJsFolder(root, name, o.model, o.precision, o.tokenizerDir, o.config);
    tjs.env.allowRemoteModels = false;
    tjs.env.allowLocalModels = true;
    tjs.env.localModelPath = `${root}${path.sep}`;
    classifier = (await tjs.pipeline('text-classification', name, { dtype: o.precision === 'int8' ? 'q8' : 'fp32', device: 'cpu' })) as unknown as Classifier;
  } catch (err) {
    return { ok: false, version: tjs.env.version, reason: `pipeline('text-classification') could not load ${name}: ${(err as Error).message.split('\n')[0]}` };
  }
  try {
    await classifier(o.singleDocs[0].text); // warm-up
    let t0 = performance.now();
    for (const d of o.singleDocs) await classifier(d.text);
    const single = { docs: o.singleDocs.length, usefulTokens: o.singleTokens, batches: o.singleDocs.length, seconds: (performance.now() - t0) / 1000 };
    t0 = performance.now();
    let batches = 0;
    for (let i = 0; i < o.batchDocs.length; i += 32, batches++) await classifier(o.batchDocs.slice(i, i + 32).map((d) => d.text));
    const batched = { docs: o.batchDocs.length, usefulTokens: o.batchTokens, batches, seconds: (performance.now() - t0) / 1000 };
    return { ok: true, version: tjs.env.version, single, batched };
  } catch (err) {
    return { ok: false, version: tjs.env.version, reason: `transformers.js failed while running: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    await classifier.dispose?.().catch(() => {});
  }
}
