/**
 * Entry point of the inference worker thread: owns one onnxruntime session and runs the
 * batches the main thread sends, one at a time (onnxruntime parallelises inside a run).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RobertaBatchError } from '../shared/errors.js';
import { OnnxEngine, type BatchRequest, type EngineOptions } from './engine.js';

interface InitData {
  modelPath: string;
  opts: EngineOptions;
}

export type ThreadRequest = { type: 'run'; id: number; req: BatchRequest } | { type: 'close' };

export type SerializedError = { code?: string; message: string; hint?: string };

function serialize(err: unknown): SerializedError {
  if (err instanceof RobertaBatchError) return { code: err.code, message: err.message, hint: err.hint };
  return { message: err instanceof Error ? err.message : String(err) };
}

const port = parentPort!;
const { modelPath, opts } = workerData as InitData;

let engine: OnnxEngine | undefined;
try {
  engine = await OnnxEngine.open(modelPath, opts);
  port.postMessage({ type: 'ready', info: engine.info });
} catch (err) {
  port.postMessage({ type: 'init-error', error: serialize(err) });
}

port.on('message', async (msg: ThreadRequest) => {
  if (msg.type === 'close') {
    await engine?.close();
    port.postMessage({ type: 'closed' });
    port.close();
    return;
  }
  try {
    if (!engine) throw new Error('model not loaded');
    const out = await engine.run(msg.req);
    port.postMessage({ type: 'result', id: msg.id, out }, [out.data.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ type: 'run-error', id: msg.id, error: serialize(err) });
  }
});
