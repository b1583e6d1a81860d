/**
 * An int8 model whose MatMul weights use codes over ±63 gives wrong results, without any error,
 * on x86 CPUs without VNNI (onnxruntime's u8 x s8 kernels saturate int16 pair sums there: see
 * src/model/int8-saturation.ts). roberta-batch's quantizer never writes such a file; one made
 * elsewhere, or by an older build, may. The summary reports the largest weight code, and the
 * worker warns about such a file where the CPU saturates (this project's CI machine, an AVX2-only
 * AMD EPYC, does; a VNNI machine must stay quiet).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuSaturatesInt8Pairs, int8Codes, SAFE_INT8_WEIGHT_CODE } from '../../src/model/int8-saturation.js';
import { DataType, decodeModel, encodeModelToBuffer } from '../../src/model/onnx-proto.js';
import { quantizeFile } from '../../src/model/quantize.js';
import { readOnnxSummary } from '../../src/model/summary.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { testModel } from '../helpers/models.js';
import { removeQueues, uniqueQueueName } from '../helpers/queues.js';
import { capturedLogger, closeWorker, inProcessWorker } from '../helpers/worker.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-int8-sat-'));
const queues: string[] = [];
afterAll(async () => {
  for (const q of queues) await removeQueues(q);
  rmSync(dir, { recursive: true, force: true });
});

/** Our quantized file with every MatMul weight code doubled into the full ±127 range. */
async function fullRangeCopy(): Promise<{ safe: string; full: string; fp32: string }> {
  const m = await testModel('sequence-classification', 'hf');
  const safe = path.join(dir, 'safe.onnx');
  await quantizeFile(m.path, safe);
  const model = decodeModel(readFileSync(safe));
  const graph = model.graph!;
  const weights = new Set(graph.node.filter((n) => n.opType === 'DynamicQuantizeMatMul').map((n) => n.input[1]));
  for (const t of graph.initializer) {
    if (!weights.has(t.name) || t.dataType !== DataType.INT8) continue;
    const codes = Int8Array.from(int8Codes(t), (v) => Math.max(-127, Math.min(127, v * 2)));
    t.rawData = new Uint8Array(codes.buffer);
  }
  const full = path.join(dir, 'full.onnx');
  writeFileSync(full, encodeModelToBuffer(model));
  return { safe, full, fp32: m.path };
}

describe('int8 weights that saturate without VNNI', () => {
  it('the summary gives the largest weight code: none for float32, 63 for our files, over 63 for a full-range file', async () => {
    const { safe, full, fp32 } = await fullRangeCopy();
    expect((await readOnnxSummary(fp32)).int8WeightMaxCode).toBeUndefined();
    expect((await readOnnxSummary(safe)).int8WeightMaxCode).toBe(SAFE_INT8_WEIGHT_CODE);
    expect((await readOnnxSummary(full)).int8WeightMaxCode).toBeGreaterThan(SAFE_INT8_WEIGHT_CODE);
  });

  it('reads VNNI from the CPU flags (x86-64 only)', () => {
    const flags = (f: string) => `processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma ${f}\n`;
    const x64 = process.arch === 'x64';
    expect(cpuSaturatesInt8Pairs(flags(''))).toBe(x64);
    expect(cpuSaturatesInt8Pairs(flags('avx512f avx512_vnni'))).toBe(false);
    expect(cpuSaturatesInt8Pairs(flags('avx_vnni'))).toBe(false);
    expect(cpuSaturatesInt8Pairs('no flags line')).toBe(false);
  });

  it('the worker warns about a full-range file on a CPU that saturates, and never about its own files', async () => {
    const { safe, full } = await fullRangeCopy();
    const saturates = cpuSaturatesInt8Pairs();
    for (const [file, unsafe] of [[full, true], [safe, false]] as const) {
      const queue = uniqueQueueName('int8-sat');
      queues.push(queue);
      const logged = capturedLogger();
      const worker = inProcessWorker({ queue, model: file, tokenizer: FIXTURE_TOKENIZER, skipHash: true }, { log: logged.log });
      try {
        await worker.start();
      } finally {
        await closeWorker(worker);
      }
      expect(logged.text()).toContain(`"event":"${LOG_EVENT.ready}"`);
      expect(logged.text().includes(`"event":"${LOG_EVENT.int8Saturation}"`), `${path.basename(file)}, CPU saturates: ${saturates}`).toBe(unsafe && saturates);
    }
  }, 60_000);
});
