/**
 * What a worker needs to know about an ONNX file before it creates a session: its inputs and
 * outputs (to pick a signature and check the task), its metadata (generated models say so), and
 * the size of its embedding tables (a tokenizer with a larger vocabulary than the word table
 * would index out of range; a sequence longer than the position table cannot be embedded).
 *
 * Reading a 499 MB zoo file costs one read of the file; weights are never copied (see
 * onnx-proto.ts), and the buffer is garbage as soon as the summary is returned.
 */
import { readFile } from 'node:fs/promises';
import { checkModelFile, notOnnx } from './model-file.js';
import { int8WeightMaxCode } from './int8-saturation.js';
import { DataType, decodeModel, type GraphProto, type ModelProto, type ValueInfoProto } from './onnx-proto.js';

export type ElemType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int64' | 'int32' | 'int16' | 'int8' | 'uint64' | 'uint32' | 'uint16' | 'uint8'
  | 'bool' | 'string' | 'unknown';

export interface TensorInfo {
  name: string;
  elemType: ElemType;
  /** A number for a fixed axis, the dim_param name for a dynamic one, '?' when the file says nothing. */
  dims: (number | string)[];
}

export interface OnnxSummary {
  irVersion: number;
  producerName: string;
  opsets: { domain: string; version: number }[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  metadata: Record<string, string>;
  /** Rows of the table Gathered by the token ids: the model's vocabulary size. */
  wordEmbeddingRows?: number;
  /** Rows of the position table: 514 for roberta-base (512 tokens + the padding offset of 2). */
  positionEmbeddingRows?: number;
  /**
   * Largest |code| of the (first) int8 weights of integer MatMuls, undefined for a float model; over
   * SAFE_INT8_WEIGHT_CODE it saturates on x86 without VNNI (int8-saturation.ts). Reading stops
   * at the first unsafe code, so the value is then only known to be over the safe range.
   */
  int8WeightMaxCode?: number;
}

const ELEM_TYPES: Record<number, ElemType> = {
  [DataType.FLOAT]: 'float32', [DataType.FLOAT16]: 'float16', [DataType.BFLOAT16]: 'bfloat16', [DataType.DOUBLE]: 'float64',
  [DataType.INT64]: 'int64', [DataType.INT32]: 'int32', [DataType.INT16]: 'int16', [DataType.INT8]: 'int8',
  [DataType.UINT64]: 'uint64', [DataType.UINT32]: 'uint32', [DataType.UINT16]: 'uint16', [DataType.UINT8]: 'uint8',
  [DataType.BOOL]: 'bool', [DataType.STRING]: 'string',
};

/** Reads and summarises `file` after the checks of model-file.ts (same codes and messages). */
export async function readOnnxSummary(file: string): Promise<OnnxSummary> {
  await checkModelFile(file);
  const buf = await readFile(file);
  let model: ModelProto;
  try {
    model = decodeModel(buf);
  } catch (cause) {
    throw notOnnx(file, (cause as Error).message, cause);
  }
  if (!model.graph || model.irVersion === 0 || model.graph.node.length === 0) {
    throw notOnnx(file, `no ${model.graph ? 'nodes in its graph' : model.irVersion === 0 ? 'ir_version' : 'graph'}`);
  }
  return summarizeModel(model);
}

export function summarizeModel(model: ModelProto): OnnxSummary {
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const initializers = new Set(graph.initializer.map((t) => t.name));
  // Before IR 4 every initializer was also listed as a graph input; those are weights, not inputs.
  const inputs = graph.input.filter((v) => !initializers.has(v.name)).map(tensorInfo);
  const summary: OnnxSummary = {
    irVersion: model.irVersion,
    producerName: model.producerName,
    opsets: model.opsetImport.map((o) => ({ domain: o.domain, version: o.version })),
    inputs,
    outputs: graph.output.map(tensorInfo),
    metadata: Object.fromEntries(model.metadataProps.map((e) => [e.key, e.value])),
  };
  Object.assign(summary, embeddingRows(graph, new Set(inputs.map((i) => i.name))));
  const maxCode = int8WeightMaxCode(graph);
  if (maxCode !== undefined) summary.int8WeightMaxCode = maxCode;
  return summary;
}

function tensorInfo(v: ValueInfoProto): TensorInfo {
  const tt = v.type?.tensorType;
  return {
    name: v.name,
    elemType: (tt && ELEM_TYPES[tt.elemType]) ?? 'unknown',
    dims: (tt?.shape ?? []).map((d) => d.dimValue ?? (d.dimParam || '?')),
  };
}

/**
 * The word table is the 2-D initializer Gathered directly by a graph input (the largest one,
 * should token_type_ids be an input too); the position table is the other Gathered table named
 * "position…", else the largest other one of the same width. Both are found behind Identity
 * nodes (tied weights), and in onnxruntime's fused EmbedLayerNormalization.
 */
function embeddingRows(graph: GraphProto, graphInputs: Set<string>): Pick<OnnxSummary, 'wordEmbeddingRows' | 'positionEmbeddingRows'> {
  const tables = new Map(graph.initializer.filter((t) => t.dims.length === 2).map((t) => [t.name, t.dims]));
  const identity = new Map(graph.node.filter((n) => n.opType === 'Identity').map((n) => [n.output[0], n.input[0]]));
  const resolve = (name: string): string => {
    for (let hops = 0; hops < 8 && identity.has(name); hops++) name = identity.get(name)!;
    return name;
  };

  const fused = graph.node.find((n) => n.opType === 'EmbedLayerNormalization');
  if (fused) {
    return {
      wordEmbeddingRows: tables.get(resolve(fused.input[2] ?? ''))?.[0],
      positionEmbeddingRows: tables.get(resolve(fused.input[3] ?? ''))?.[0],
    };
  }

  const gathers = graph.node
    .filter((n) => n.opType === 'Gather' && tables.has(resolve(n.input[0])))
    .map((n) => ({ table: resolve(n.input[0]), indices: n.input[1], dims: tables.get(resolve(n.input[0]))! }));
  const byRows = (a: { dims: number[] }, b: { dims: number[] }): number => b.dims[0] - a.dims[0];
  const word = gathers.filter((g) => graphInputs.has(resolve(g.indices))).sort(byRows)[0];
  if (!word) return {};
  const others = gathers.filter((g) => g.table !== word.table && g.dims[1] === word.dims[1]);
  const position = others.find((g) => /position/i.test(g.table)) ?? others.sort(byRows)[0];
  return { wordEmbeddingRows: word.dims[0], positionEmbeddingRows: position?.dims[0] };
}
