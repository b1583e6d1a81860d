/**
 * int8 weights that onnxruntime's CPU kernels saturate on x86 without VNNI.
 *
 * There, the u8 x s8 matrix kernels add pairs of products in saturating int16
 * (`vpmaddubsw`): with activations up to 255 and weight codes above ±63 a pair can pass
 * 32,767, and the results drift (0.24-0.26 in logits on the test models). roberta-batch's
 * own quantizer writes ±63 codes for exactly this reason (quantize.ts, MATMUL_QMAX); a file
 * quantized elsewhere (onnxruntime's `quantize_dynamic` without `reduce_range`), or by a build
 * before that change, may use the full ±127. The worker warns when it is given such a file on
 * such a CPU: the results would be wrong without any error.
 */
import { readFileSync } from 'node:fs';
import { bytesOfPart, DataType, type GraphProto, type TensorProto } from './onnx-proto.js';

/** Largest code that cannot saturate a pair sum: 255 x 63 x 2 = 32,130 <= 32,767. */
export const SAFE_INT8_WEIGHT_CODE = 63;

/** Ops whose int8 B input is multiplied by uint8 activations on the CPU. */
const INTEGER_MATMULS = new Set(['DynamicQuantizeMatMul', 'MatMulInteger', 'MatMulIntegerToFloat']);

/**
 * Weight tensors read. A quantizer's code range is one setting for the whole file, and
 * symmetric per-column or per-tensor scales make every tensor reach it (each column's largest
 * weight maps to ±qmax), so the first tensors show it: reading all of roberta-base's 85 M
 * codes took 0.7 s of worker start-up, two 768 x 768 tensors take milliseconds.
 */
const TENSORS_READ = 2;

/**
 * The largest |code| among the first int8 weight initializers of integer MatMuls, or undefined
 * when the graph has none (a float model). Stops at the first code over the safe range.
 */
export function int8WeightMaxCode(graph: GraphProto): number | undefined {
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  let max: number | undefined;
  let read = 0;
  for (const node of graph.node) {
    if (read >= TENSORS_READ) break;
    if (!INTEGER_MATMULS.has(node.opType)) continue;
    const t = inits.get(node.input[1] ?? '');
    if (!t || t.dataType !== DataType.INT8 || !t.rawData) continue;
    read++;
    const codes = int8Codes(t);
    let m = max ?? 0;
    for (let i = 0; i < codes.length; i++) {
      const a = codes[i] < 0 ? -codes[i] : codes[i];
      if (a > m) {
        m = a;
        if (m > SAFE_INT8_WEIGHT_CODE) return m;
      }
    }
    max = m;
  }
  return max;
}

/** The codes of an int8 initializer stored in the file (a view, not a copy). */
export function int8Codes(t: TensorProto): Int8Array {
  const raw = t.rawData ? bytesOfPart(t.rawData) : new Uint8Array(0);
  return new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/**
 * True on x86-64 CPUs without AVX-512 VNNI or AVX-VNNI (read from /proc/cpuinfo; false where it
 * cannot be read, and on other architectures, whose int8 kernels do not saturate this way).
 */
export function cpuSaturatesInt8Pairs(cpuinfo?: string): boolean {
  if (process.arch !== 'x64') return false;
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return false;
    }
  }
  const flags = /^flags\s*:(.*)$/m.exec(text)?.[1]?.split(/\s+/) ?? [];
  if (!flags.length) return false;
  return !flags.includes('avx512_vnni') && !flags.includes('avx_vnni');
}
