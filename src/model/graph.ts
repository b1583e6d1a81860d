/**
 * The RoBERTa ONNX graph, laid out node for node like a torch.onnx export of Hugging Face's
 * RobertaModel / RobertaForSequenceClassification, so onnxruntime's transformer fusions
 * (LayerNorm, Gelu/BiasGelu, SkipLayerNormalization, Attention) recognise it as they do a real
 * export.
 *
 * Opset 11, as roberta-base-11.onnx: onnxruntime's C++ AttentionFusion (attention_fusion.cc, the
 * one applied at session creation) only matches opset-7..12 node versions (Add-7, Reshape-5,
 * Transpose-1, Softmax-11, Unsqueeze-11) under a LayerNormalization-1, which LayerNormFusion makes
 * from the ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add decomposition; the same graph at opset 17 runs
 * unfused. It also wants MatMul before the bias (Add(MatMul, bias)) and the mask built as
 * (1 - mask) * -10000. SkipLayerNormalization is never fused at session creation for a dynamic
 * sequence axis (it needs a static dim 1), neither for real exports.
 *
 * Input and output names copy the files users actually run (looked up 2025 for this module):
 * - roberta-base-11.onnx (ONNX Model Zoo, validated/text/machine_comprehension/roberta): exported
 *   by onnxruntime's transformers benchmark (README "Conversion" links run_benchmark.sh), whose
 *   onnx_exporter.build_dynamic_axes names inputs by the HF keyword (`input_ids`, axes
 *   `batch_size`/`seq_len`) and outputs `output_1` [batch_size, seq_len, 768] and `output_2`
 *   [batch_size, 768]. Confirmed by onnx/models issue #408 and PR #473, which runs
 *   `sess.run(["output_1", "output_2"], {"input_ids": ...})`.
 * - roberta-sequence-classification-9.onnx: the README says it is "converted directly from"
 *   SeldonIO/seldon-models pytorch/moviesentiment_roberta/pytorch-roberta-onnx.ipynb, which calls
 *   torch.onnx.export(..., input_names=['input'], output_names=['output'], dynamic_axes=
 *   {'input': {0: 'batch_size', 1: 'sentence_length'}, 'output': {0: 'batch_size'}}) with the
 *   default opset of the time (9, the file's suffix). The zoo README describes the input as
 *   "input_ids", but every published client reads `session.get_inputs()[0].name` instead of a
 *   name, so consumers must do the same: find the ids input by position/type, not by name.
 * - hf: Optimum's RobertaOnnxConfig: `input_ids`, `attention_mask` (axes `batch_size`,
 *   `sequence_length`) → `logits`, or `last_hidden_state` + `pooler_output`.
 */
import type { ModelHead, ModelSignature, RobertaConfig } from './config.js';
import {
  AttributeType, DataType,
  type AttributeProto, type GraphProto, type NodeProto, type Part, type TensorProto, type ValueInfoProto,
} from './onnx-proto.js';
import { weightNames, weightSpecs, type LayerNormNames, type LinearNames, type WeightSpec } from './weights.js';

export const OPSET = 11;
/** IR version 6 goes with opset 11 (onnx/docs/Versioning.md). */
export const IR_VERSION = 6;

export interface ModelIo {
  inputIds: string;
  attentionMask?: string;
  logits?: string;
  lastHiddenState?: string;
  pooledOutput?: string;
  batchDim: string;
  sequenceDim: string;
}

export function modelIo(head: ModelHead, signature: ModelSignature): ModelIo {
  if (signature === 'hf') {
    const io: ModelIo = { inputIds: 'input_ids', attentionMask: 'attention_mask', batchDim: 'batch_size', sequenceDim: 'sequence_length' };
    if (head === 'sequence-classification') io.logits = 'logits';
    else Object.assign(io, { lastHiddenState: 'last_hidden_state', pooledOutput: 'pooler_output' });
    return io;
  }
  return head === 'sequence-classification'
    ? { inputIds: 'input', logits: 'output', batchDim: 'batch_size', sequenceDim: 'sentence_length' }
    : { inputIds: 'input_ids', lastHiddenState: 'output_1', pooledOutput: 'output_2', batchDim: 'batch_size', sequenceDim: 'seq_len' };
}

/**
 * Added to the scores of padding keys. -10000 (BERT-era Hugging Face; newer versions use
 * float32 min) is what AttentionFusion matches; exp(-10000 + O(10)) is 0 in float32 either way.
 * Once fused, Attention reads the mask as a per-row token count (ReduceSum), so masks must be
 * right-padded (ones, then zeros), as tokenizers produce them.
 */
export const MASK_FILL = -10000;

export interface GraphOptions {
  config: RobertaConfig;
  head: ModelHead;
  signature: ModelSignature;
  /** The bytes (little-endian float32) of one weight tensor; may be produced lazily. */
  tensorData: (spec: WeightSpec) => Part;
}

export function buildRobertaGraph(opts: GraphOptions): GraphProto {
  const { config, head, signature } = opts;
  const io = modelIo(head, signature);
  const names = weightNames(config, head);
  const g = new GraphBuilder();
  for (const spec of weightSpecs(config, head)) {
    g.initializer({ name: spec.name, dims: spec.dims, dataType: DataType.FLOAT, rawData: opts.tensorData(spec) });
  }
  const H = config.hiddenSize;
  const heads = config.numHeads;
  const headDim = H / heads;
  const prefix = head === 'sequence-classification' ? '/roberta' : '';

  // ---- embeddings: word + token type + position (position ids computed from the ids)
  const ids = io.inputIds;
  const e = `${prefix}/embeddings`;
  const word = g.node('Gather', [names.wordEmbeddings, ids], `${e}/word_embeddings/Gather`);
  const tokenTypeIds = g.node('ConstantOfShape', [g.node('Shape', [ids], `${e}/Shape`)], `${e}/ConstantOfShape`, [
    attrTensor('value', { name: '', dims: [1], dataType: DataType.INT64, int64Data: [0] }),
  ]);
  const tokenType = g.node('Gather', [names.tokenTypeEmbeddings, tokenTypeIds], `${e}/token_type_embeddings/Gather`);
  // create_position_ids_from_input_ids: cumsum(ids != pad) * (ids != pad) + pad, in int32 as torch traces it.
  const pad = g.constInt64(`${e}/padding_idx`, [config.padTokenId], []);
  const notPad = g.node('Not', [g.node('Equal', [ids, pad], `${e}/Equal`)], `${e}/Not`);
  const mask32 = g.node('Cast', [notPad], `${e}/Cast`, [attrInt('to', DataType.INT32)]);
  const cumsum = g.node('CumSum', [mask32, g.constInt64(`${e}/cumsum_axis`, [1], [])], `${e}/CumSum`);
  const incremental = g.node('Mul', [cumsum, mask32], `${e}/Mul`);
  const positionIds = g.node('Add', [g.node('Cast', [incremental], `${e}/Cast_1`, [attrInt('to', DataType.INT64)]), pad], `${e}/Add`);
  const position = g.node('Gather', [names.positionEmbeddings, positionIds], `${e}/position_embeddings/Gather`);
  const summed = g.node('Add', [g.node('Add', [word, tokenType], `${e}/Add_1`), position], `${e}/Add_2`);
  let hidden = layerNorm(g, summed, names.embeddingsLayerNorm, config.layerNormEps, `${e}/LayerNorm`);

  // ---- extended attention mask (hf only): [B, S] → [B, 1, 1, S], 0 for tokens, MASK_FILL for padding
  let extendedMask: string | undefined;
  if (io.attentionMask) {
    const m = io.attentionMask;
    const unsqueezed = g.node('Unsqueeze', [g.node('Unsqueeze', [m], '/Unsqueeze', [attrInts('axes', [1])])], '/Unsqueeze_1', [attrInts('axes', [2])]);
    const maskF = g.node('Cast', [unsqueezed], '/Cast', [attrInt('to', DataType.FLOAT)]);
    const inverted = g.node('Sub', [g.constFloat('/Sub_one', 1), maskF], '/Sub');
    extendedMask = g.node('Mul', [inverted, g.constFloat('/Mul_fill', MASK_FILL)], '/Mul');
  }

  // ---- encoder layers
  const splitHeadsShape = g.constInt64('/split_heads_shape', [0, 0, heads, headDim], [4]);
  const mergeHeadsShape = g.constInt64('/merge_heads_shape', [0, 0, H], [3]);
  const scale = g.constFloat('/attention_scale', Math.sqrt(headDim));
  const sqrt2 = g.constFloat('/gelu_sqrt2', Math.SQRT2);
  const one = g.constFloat('/gelu_one', 1);
  const half = g.constFloat('/gelu_half', 0.5);
  names.layers.forEach((l, i) => {
    const p = `${prefix}/encoder/layer.${i}`;
    const a = `${p}/attention/self`;
    const q = linear(g, hidden, l.query, `${a}/query`);
    const k = linear(g, hidden, l.key, `${a}/key`);
    const v = linear(g, hidden, l.value, `${a}/value`);
    const qh = g.node('Transpose', [g.node('Reshape', [q, splitHeadsShape], `${a}/Reshape`)], `${a}/Transpose`, [attrInts('perm', [0, 2, 1, 3])]);
    // Keys go straight to [B, N, D, S], as the exported key.transpose(-1, -2) folds into one Transpose.
    const kh = g.node('Transpose', [g.node('Reshape', [k, splitHeadsShape], `${a}/Reshape_1`)], `${a}/Transpose_1`, [attrInts('perm', [0, 2, 3, 1])]);
    const vh = g.node('Transpose', [g.node('Reshape', [v, splitHeadsShape], `${a}/Reshape_2`)], `${a}/Transpose_2`, [attrInts('perm', [0, 2, 1, 3])]);
    let scores = g.node('Div', [g.node('MatMul', [qh, kh], `${a}/MatMul`), scale], `${a}/Div`);
    if (extendedMask) scores = g.node('Add', [scores, extendedMask], `${a}/Add`);
    // Opset 11 Softmax flattens at `axis`; 3 on [B, N, S, S] is the last axis, the value the fusion checks.
    const probs = g.node('Softmax', [scores], `${a}/Softmax`, [attrInt('axis', 3)]);
    const context = g.node('MatMul', [probs, vh], `${a}/MatMul_1`);
    const merged = g.node('Reshape', [g.node('Transpose', [context], `${a}/Transpose_3`, [attrInts('perm', [0, 2, 1, 3])]), mergeHeadsShape], `${a}/Reshape_3`);
    const o = `${p}/attention/output`;
    const attnOut = linear(g, merged, l.attentionOutput, `${o}/dense`);
    const h1 = layerNorm(g, g.node('Add', [attnOut, hidden], `${o}/Add`), l.attentionLayerNorm, config.layerNormEps, `${o}/LayerNorm`);
    // GELU(erf) as torch exports it: x * 0.5 * (1 + erf(x / sqrt 2)) → Div, Erf, Add, Mul, Mul.
    const it = `${p}/intermediate`;
    const f = linear(g, h1, l.intermediate, `${it}/dense`);
    const erf = g.node('Erf', [g.node('Div', [f, sqrt2], `${it}/intermediate_act_fn/Div`)], `${it}/intermediate_act_fn/Erf`);
    const gelu = g.node('Mul', [g.node('Mul', [f, g.node('Add', [erf, one], `${it}/intermediate_act_fn/Add`)], `${it}/intermediate_act_fn/Mul`), half], `${it}/intermediate_act_fn/Mul_1`);
    const out = `${p}/output`;
    const ffnOut = linear(g, gelu, l.output, `${out}/dense`);
    const isLast = i === names.layers.length - 1;
    hidden = layerNorm(g, g.node('Add', [ffnOut, h1], `${out}/Add`), l.outputLayerNorm, config.layerNormEps, `${out}/LayerNorm`,
      isLast ? io.lastHiddenState : undefined);
  });

  // ---- heads, both on the <s> token: h[:, 0] is Gather(axis=1, index 0) in a torch export
  const first = (scope: string): string => g.node('Gather', [hidden, g.constInt64(`${scope}/first_token`, [0], [])], `${scope}/Gather`, [attrInt('axis', 1)]);
  const floatOut = (name: string, dims: (number | string)[]): ValueInfoProto => valueInfo(name, DataType.FLOAT, dims);
  const outputs: ValueInfoProto[] = [];
  if (head === 'sequence-classification') {
    const c = '/classifier';
    const dense = g.node('Tanh', [linear(g, first(c), names.classifierDense!, `${c}/dense`)], `${c}/Tanh`);
    linear(g, dense, names.classifierOut!, `${c}/out_proj`, io.logits);
    outputs.push(floatOut(io.logits!, [io.batchDim, config.numLabels]));
  } else {
    const pl = '/pooler';
    g.node('Tanh', [linear(g, first(pl), names.pooler!, `${pl}/dense`)], `${pl}/activation/Tanh`, [], io.pooledOutput);
    outputs.push(floatOut(io.lastHiddenState!, [io.batchDim, io.sequenceDim, H]));
    outputs.push(floatOut(io.pooledOutput!, [io.batchDim, H]));
  }

  const inputs = [valueInfo(io.inputIds, DataType.INT64, [io.batchDim, io.sequenceDim])];
  if (io.attentionMask) inputs.push(valueInfo(io.attentionMask, DataType.INT64, [io.batchDim, io.sequenceDim]));
  return { name: 'main_graph', node: g.nodes, initializer: g.initializers, input: inputs, output: outputs, valueInfo: [] };
}

function linear(g: GraphBuilder, x: string, w: LinearNames, scope: string, output?: string): string {
  return g.node('Add', [g.node('MatMul', [x, w.weight], `${scope}/MatMul`), w.bias], `${scope}/Add`, [], output);
}

/** LayerNorm as torch exports it below opset 17; onnxruntime's LayerNormFusion folds it back. */
function layerNorm(g: GraphBuilder, x: string, w: LayerNormNames, eps: number, name: string, output?: string): string {
  const lastAxis = [attrInts('axes', [-1])];
  const mean = g.node('ReduceMean', [x], `${name}/ReduceMean`, lastAxis);
  const centered = g.node('Sub', [x, mean], `${name}/Sub`);
  const variance = g.node('ReduceMean', [g.node('Pow', [centered, g.constFloat(`${name}/two`, 2)], `${name}/Pow`)], `${name}/ReduceMean_1`, lastAxis);
  const std = g.node('Sqrt', [g.node('Add', [variance, g.constFloat(`${name}/eps`, eps)], `${name}/Add`)], `${name}/Sqrt`);
  const normalized = g.node('Div', [centered, std], `${name}/Div`);
  return g.node('Add', [g.node('Mul', [normalized, w.weight], `${name}/Mul`), w.bias], `${name}/Add_1`, [], output);
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
  };
}

function attrInt(name: string, i: number): AttributeProto {
  return { name, type: AttributeType.INT, i };
}

function attrInts(name: string, ints: number[]): AttributeProto {
  return { name, type: AttributeType.INTS, ints };
}

function attrTensor(name: string, t: TensorProto): AttributeProto {
  return { name, type: AttributeType.TENSOR, t };
}

/** Collects nodes and initializers; a node's output is `<node name>_output_0` unless named. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  #names = new Set<string>();

  node(opType: string, input: string[], name: string, attribute: AttributeProto[] = [], output?: string): string {
    if (this.#names.has(name)) throw new Error(`duplicate node name ${name}`);
    this.#names.add(name);
    const out = output ?? `${name}_output_0`;
    this.nodes.push({ name, opType, domain: '', input, output: [out], attribute });
    return out;
  }

  initializer(t: TensorProto): string {
    this.initializers.push(t);
    return t.name;
  }

  constInt64(name: string, values: number[], dims: number[]): string {
    const b = new Uint8Array(values.length * 8);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    return this.initializer({ name, dims, dataType: DataType.INT64, rawData: b });
  }

  constFloat(name: string, value: number): string {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.initializer({ name, dims: [], dataType: DataType.FLOAT, rawData: b });
  }
}
