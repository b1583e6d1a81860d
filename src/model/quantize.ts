/**
 * int8 dynamic quantization as a graph rewrite over the ONNX protobuf, in TypeScript, so a
 * model can be quantized where Python's onnxruntime.quantization is not installed.
 *
 * - Every MatMul whose B input is a float32 rank-2 initializer [K, N] becomes onnxruntime's
 *   fused `com.microsoft.DynamicQuantizeMatMul(A, B_int8, b_scale[N], b_zero_point[N], bias?)`:
 *   the activations are quantized to uint8 at run time (scale from the min/max of the whole
 *   input tensor, i.e. of the whole batch), the weights are int8 with 7-bit codes (see
 *   MATMUL_QMAX), symmetric, one scale per output column. It is the node onnxruntime's own
 *   MatMulIntegerToFloat fusion makes from `quantize_dynamic`'s DynamicQuantizeLinear +
 *   MatMulInteger + Cast + Mul chain, written directly. A following `Add(bias[N])` is folded
 *   into the node's bias input.
 * - Every Gather whose data input is a float32 rank-2 initializer (the word, position and
 *   token-type tables) reads an int8 copy of the table and is followed by Cast + Mul(scale[H]):
 *   per-column scales keep RoBERTa's few large embedding dimensions from flattening the rest.
 *   The table keeps its name and shape, so readOnnxSummary still finds the vocabulary rows.
 *
 * Only the `com.microsoft` domain (version 1) is added to the imports; the default opset is left
 * alone (opset 9 zoo files would change meaning if bumped: Slice-1 takes attributes, Slice-10
 * inputs). Cast and Mul exist at every opset. Weights take ~1/4 of their float32 bytes.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { E } from '../shared/errors.js';
import {
  AttributeType, bytesOfPart, DataType, decodeModel, encodeModel,
  type GraphProto, type ModelProto, type NodeProto, type TensorProto,
} from './onnx-proto.js';

export const MS_DOMAIN = 'com.microsoft';
export const QUANTIZED_METADATA_KEY = 'roberta_batch.quantized';
/**
 * Symmetric codes, so -x quantizes to -q (the -128 code is never used).
 * - Embedding tables use the full ±127: they are only gathered and dequantized (Cast + Mul).
 * - MatMul weights use 7 bits, ±63 (onnxruntime's `reduce_range`). On x86 CPUs without VNNI
 *   (AVX2 only, e.g. many AMD EPYC and older Xeon hosts) onnxruntime's u8 x s8 kernel adds pairs of
 *   products in saturating int16 (`vpmaddubsw`): 255 x 127 x 2 = 64,770 overflows 32,767 and
 *   the logits move by ~0.25 on the test models; 255 x 63 x 2 = 32,130 cannot overflow. A
 *   quantized file is made once and run on whatever nodes the workers land on, so every file
 *   is made safe for all of them; the cost is one bit of weight precision.
 */
export const TABLE_QMAX = 127;
export const MATMUL_QMAX = 63;

export interface QuantizeReport {
  matmuls: number;
  gathers: number;
  /** Add nodes folded into DynamicQuantizeMatMul's bias input. */
  biasesFolded: number;
  /** float32 weight bytes replaced by int8 ones (before / after). */
  floatBytes: number;
  int8Bytes: number;
}

export interface QuantizedFile extends QuantizeReport {
  path: string;
  bytesIn: number;
  bytesOut: number;
}

/** The float32 values of an initializer, or undefined when they are not stored in the file. */
function floatValues(t: TensorProto): Float32Array | undefined {
  if (t.dataType !== DataType.FLOAT || t.dataLocation === 1) return undefined;
  if (t.floatData && t.floatData.length) return t.floatData;
  const raw = t.rawData;
  if (!(raw instanceof Uint8Array)) return undefined;
  // rawData is a view into the file buffer, possibly unaligned: copy it out.
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return new Float32Array(copy.buffer);
}

/** Per-column symmetric int8 (codes within ±qmax) of a row-major [rows, cols] matrix. */
export function quantizePerColumn(values: Float32Array, rows: number, cols: number, qmax: number): { q: Int8Array; scale: Float32Array } {
  const absMax = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(values[base + c]);
      if (a > absMax[c]) absMax[c] = a;
    }
  }
  // A column of zeros gets scale 1 (any scale dequantizes 0 to 0; 0 would divide by zero).
  const scale = absMax.map((m) => (m > 0 ? m / qmax : 1));
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = Math.round(values[base + c] / scale[c]);
      q[base + c] = v > qmax ? qmax : v < -qmax ? -qmax : v;
    }
  }
  return { q, scale };
}

const bytesOf = (a: Int8Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Rewrites `model` in place; returns what changed. Throws when nothing can be quantized. */
export function quantizeModelInt8(model: ModelProto): QuantizeReport {
  const graph = model.graph;
  if (!graph) throw E.MODEL_NOT_ONNX('the model has no graph');
  if (model.metadataProps.some((e) => e.key === QUANTIZED_METADATA_KEY)) {
    throw E.CONFIG('the model is already quantized', { hint: 'quantize the float32 model instead' });
  }
  const report: QuantizeReport = { matmuls: 0, gathers: 0, biasesFolded: 0, floatBytes: 0, int8Bytes: 0 };
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const consumers = new Map<string, NodeProto[]>();
  for (const n of graph.node) for (const i of n.input) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const usedName = new Set<string>([...inits.keys(), ...graph.node.flatMap((n) => [...n.input, ...n.output])]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; usedName.has(name); k++) name = `${base}_${k}`;
    usedName.add(name);
    return name;
  };
  const added: TensorProto[] = [];
  const removedNodes = new Set<NodeProto>();
  const replaced = new Map<NodeProto, NodeProto[]>();
  const quantizedTables = new Map<string, { q: string; scale: string }>();
  /** Float tables that have an int8 copy: dropped at the end unless something still reads them. */
  const floatTablesCopied = new Set<string>();

  const isFloatMatrix = (name: string): TensorProto | undefined => {
    const t = inits.get(name);
    return t && t.dims.length === 2 && t.dataType === DataType.FLOAT && floatValues(t) ? t : undefined;
  };
  // One int8 copy per table and code range: a table both multiplied and gathered (tied
  // embeddings) gets a 7-bit copy for DynamicQuantizeMatMul and a full-range one for Gather.
  const quantizeTable = (t: TensorProto, qmax: number): { q: string; scale: string } => {
    const key = `${qmax}:${t.name}`;
    const done = quantizedTables.get(key);
    if (done) return done;
    const [rows, cols] = t.dims;
    const { q, scale } = quantizePerColumn(floatValues(t)!, rows, cols, qmax);
    const qName = fresh(`${t.name}_quantized`);
    const sName = fresh(`${t.name}_scale`);
    added.push({ name: qName, dims: [rows, cols], dataType: DataType.INT8, rawData: bytesOf(q) });
    added.push({ name: sName, dims: [cols], dataType: DataType.FLOAT, rawData: bytesOf(scale) });
    if (!floatTablesCopied.has(t.name)) report.floatBytes += rows * cols * 4;
    floatTablesCopied.add(t.name);
    report.int8Bytes += rows * cols + cols * 4;
    const names = { q: qName, scale: sName };
    quantizedTables.set(key, names);
    return names;
  };

  for (const node of graph.node) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    if (node.opType === 'MatMul' && node.input.length === 2) {
      const w = isFloatMatrix(node.input[1]);
      if (!w) continue;
      const { q, scale } = quantizeTable(w, MATMUL_QMAX);
      const zp = fresh(`${w.name}_zero_point`);
      added.push({ name: zp, dims: [w.dims[1]], dataType: DataType.INT8, rawData: new Uint8Array(w.dims[1]) });
      const inputs = [node.input[0], q, scale, zp];
      let output = node.output[0];
      // Fold Add(MatMul, bias[N]) when the Add is the product's only reader.
      const readers = consumers.get(output) ?? [];
      const add = readers.length === 1 && readers[0].opType === 'Add' && !readers[0].domain && !graphOutputs.has(output) ? readers[0] : undefined;
      const biasName = add?.input.find((i) => i !== output);
      const bias = biasName ? inits.get(biasName) : undefined;
      if (add && bias && bias.dataType === DataType.FLOAT && bias.dims.length === 1 && bias.dims[0] === w.dims[1]) {
        inputs.push(bias.name);
        output = add.output[0];
        removedNodes.add(add);
        report.biasesFolded++;
      }
      replaced.set(node, [{ name: node.name, opType: 'DynamicQuantizeMatMul', domain: MS_DOMAIN, input: inputs, output: [output], attribute: [] }]);
      report.matmuls++;
    } else if (node.opType === 'Gather' && node.input.length === 2) {
      const table = isFloatMatrix(node.input[0]);
      const axis = node.attribute.find((a) => a.name === 'axis')?.i ?? 0;
      if (!table || axis !== 0) continue;
      const { q, scale } = quantizeTable(table, TABLE_QMAX);
      const gathered = fresh(`${node.output[0]}_int8`);
      const cast = fresh(`${node.output[0]}_cast`);
      replaced.set(node, [
        { name: node.name, opType: 'Gather', domain: '', input: [q, node.input[1]], output: [gathered], attribute: node.attribute },
        { name: `${node.name}_cast`, opType: 'Cast', domain: '', input: [gathered], output: [cast], attribute: [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }] },
        { name: `${node.name}_dequantize`, opType: 'Mul', domain: '', input: [cast, scale], output: [node.output[0]], attribute: [] },
      ]);
      report.gathers++;
    }
  }
  if (report.matmuls + report.gathers === 0) {
    throw E.MODEL_SIGNATURE('no MatMul with a float32 weight matrix and no Gather of a float32 table: nothing to quantize', {
      hint: 'pass a float32 RoBERTa export whose weights are stored in the .onnx file itself',
    });
  }

  graph.node = graph.node.flatMap((n) => (removedNodes.has(n) ? [] : replaced.get(n) ?? [n]));
  // Float tables no node reads any more are dropped (and from the inputs of IR < 4 files).
  const stillRead = new Set(graph.node.flatMap((n) => n.input));
  const dropped = new Set(graph.initializer.filter((t) => floatTablesCopied.has(t.name) && !stillRead.has(t.name) && !graphOutputs.has(t.name)).map((t) => t.name));
  graph.initializer = [...graph.initializer.filter((t) => !dropped.has(t.name)), ...added];
  graph.input = graph.input.filter((v) => !dropped.has(v.name));
  graph.valueInfo = graph.valueInfo.filter((v) => !dropped.has(v.name));
  if (!model.opsetImport.some((o) => o.domain === MS_DOMAIN)) model.opsetImport.push({ domain: MS_DOMAIN, version: 1 });
  model.metadataProps.push({ key: QUANTIZED_METADATA_KEY, value: 'int8 dynamic: DynamicQuantizeMatMul, per-column symmetric 7-bit weights; int8 embedding tables' });
  return report;
}

/** Counts the nodes of a graph by op type (for reports and tests). */
export function opCounts(graph: GraphProto): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of graph.node) out[n.opType] = (out[n.opType] ?? 0) + 1;
  return out;
}

/** Reads `input`, quantizes it and writes `output` (via a temporary file renamed into place). */
export async function quantizeFile(input: string, output: string): Promise<QuantizedFile> {
  let buf: Buffer;
  try {
    buf = await readFile(input);
  } catch (cause) {
    throw E.MODEL_NOT_FOUND(`cannot read ${input}: ${(cause as Error).message}`, { hint: 'pass the float32 .onnx file', cause });
  }
  let model: ModelProto;
  try {
    model = decodeModel(buf);
  } catch (cause) {
    throw E.MODEL_NOT_ONNX(`${input} is not an ONNX model: ${(cause as Error).message}`, { cause });
  }
  const report = quantizeModelInt8(model);
  const { parts, byteLength } = encodeModel(model);
  const out = path.resolve(output);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}-${randomBytes(4).toString('hex')}.onnx.part`);
  try {
    const fh = await open(tmp, 'w');
    try {
      for (const part of parts) {
        const bytes = bytesOfPart(part);
        let off = 0;
        while (off < bytes.byteLength) off += (await fh.write(bytes, off, bytes.byteLength - off)).bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { ...report, path: out, bytesIn: buf.byteLength, bytesOut: byteLength };
}
