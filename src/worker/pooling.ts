/**
 * From a base model's token states to one vector per row: `cls` takes the first token's
 * state, `mean` averages the row's real tokens (specials included, padding never), and
 * l2normalizeRows scales each row to length 1 (`--normalize`).
 */
import type { Pooling } from '../shared/types.js';

/**
 * `states` is [rows, seq, width] row-major; `lengths[r]` is row r's real token count.
 * Returns [rows, width]. (`pooler` is not pooled here: the model's pooled output is used.)
 */
export function poolTokenStates(states: Float32Array, rows: number, seq: number, lengths: Int32Array, pooling: Exclude<Pooling, 'pooler'>): { data: Float32Array; width: number } {
  const width = states.length / (rows * seq);
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const dst = out.subarray(r * width, (r + 1) * width);
    if (pooling === 'cls') {
      dst.set(states.subarray(r * seq * width, r * seq * width + width));
      continue;
    }
    // Summed in float64 so that float32 rounding does not grow with the row's length.
    const len = lengths[r];
    const acc = new Float64Array(width);
    for (let p = 0; p < len; p++) {
      const base = (r * seq + p) * width;
      for (let k = 0; k < width; k++) acc[k] += states[base + k];
    }
    for (let k = 0; k < width; k++) dst[k] = acc[k] / len;
  }
  return { data: out, width };
}

export function l2normalizeRows(data: Float32Array, rows: number, width: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < width; k++) s += data[r * width + k] ** 2;
    const n = Math.sqrt(s) || 1;
    for (let k = 0; k < width; k++) data[r * width + k] /= n;
  }
}
