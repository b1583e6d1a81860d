/**
 * Main-thread side of the inference worker thread. `session.run` of onnxruntime-node keeps
 * its thread busy for the whole batch (seconds for a base model on CPU); in a worker thread
 * the main thread keeps renewing BullMQ locks, answering /healthz and tokenizing the next batch.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { E, RobertaBatchError, isErrorCode } from '../shared/errors.js';
import { beforeExit } from '../shared/exit-hooks.js';
import { logger } from '../shared/logger.js';
import type { InferenceBackend } from './backend.js';
import type { BatchOutput, BatchRequest, EngineOptions, ModelInfo } from './engine.js';
import type { SerializedError } from './inference-thread-main.js';

/** Tests import the TypeScript sources; the thread always runs the compiled file in dist/. */
function threadScript(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = path.join(path.dirname(here), 'inference-thread-main.js');
  if (existsSync(sibling)) return sibling;
  const fromSrc = here.replace(`${path.sep}src${path.sep}`, `${path.sep}dist${path.sep}`).replace(/inference-thread\.ts$/, 'inference-thread-main.js');
  if (existsSync(fromSrc)) return fromSrc;
  throw new Error(`inference thread script not found next to ${here}: run \`npm run build\``);
}

/** The thread's error rebuilt with its catalogue entry (code, hint, retryable) on this side. */
function toError(e: SerializedError): Error {
  return isErrorCode(e.code) ? new RobertaBatchError(e.code, e.message, { hint: e.hint }) : new Error(e.message);
}

interface Pending {
  resolve: (o: BatchOutput) => void;
  reject: (e: Error) => void;
}

function transferable(req: BatchRequest): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of [req.ids, req.lengths]) {
    const b = a.buffer;
    if (b instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === b.byteLength && !out.includes(b)) out.push(b);
  }
  return out;
}

export class InferenceThread implements InferenceBackend {
  readonly info: ModelInfo;
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #dead: Error | undefined;
  #closing: Promise<void> | undefined;
  /** Removes the exit hook that closes this thread before process.exit (shared/exit-hooks.ts). */
  #unhookExit: () => void;

  private constructor(worker: Worker, info: ModelInfo) {
    this.#worker = worker;
    this.info = info;
    this.#unhookExit = beforeExit(async () => {
      if (this.#pending.size) logger().info({ batches: this.#pending.size }, 'exiting once the batch inside onnxruntime is done (it cannot be stopped; send the signal again to exit at once)');
      await this.close();
    });
    worker.on('message', (msg: { type: string; id?: number; out?: BatchOutput; error?: SerializedError }) => {
      if (msg.type !== 'result' && msg.type !== 'run-error') return;
      const p = this.#pending.get(msg.id!);
      if (!p) return;
      this.#pending.delete(msg.id!);
      if (msg.type === 'result') p.resolve(msg.out!);
      else p.reject(toError(msg.error!));
    });
    const fail = (err: Error) => {
      this.#dead = err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    worker.on('error', (err) => fail(E.INFERENCE(`inference thread crashed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.#closing) fail(E.INFERENCE(`inference thread exited with code ${code}`));
    });
  }

  /** Starts the thread and waits until the model is loaded (or its load failed). */
  static start(modelPath: string, opts: EngineOptions): Promise<InferenceThread> {
    // Worker threads share the process env; resourceLimits stay unset: a base model needs ~1 GB.
    const worker = new Worker(threadScript(), { workerData: { modelPath, opts } });
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { type: string; info?: ModelInfo; error?: SerializedError }) => {
        if (msg.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('error', onError);
          resolve(new InferenceThread(worker, msg.info!));
        } else if (msg.type === 'init-error') {
          worker.off('message', onMessage);
          worker.off('error', onError);
          void worker.terminate();
          reject(toError(msg.error!));
        }
      };
      const onError = (err: Error) => reject(E.MODEL_LOAD(`inference thread failed to start: ${err.message}`, { cause: err }));
      worker.on('message', onMessage);
      worker.once('error', onError);
    });
  }

  get alive(): boolean {
    return !this.#dead && !this.#closing;
  }

  run(req: BatchRequest): Promise<BatchOutput> {
    if (this.#dead) return Promise.reject(this.#dead);
    if (this.#closing) return Promise.reject(E.SHUTDOWN('inference thread is closing'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // The padded ids and lengths move to the thread without a copy: the batcher builds them
      // per run (a split rebuilds them from the documents' own ids), so nothing here reads them
      // again. Only whole buffers can move: a view into a larger buffer is copied.
      this.#worker.postMessage({ type: 'run', id, req }, transferable(req));
    });
  }

  /** Releases the session and ends the thread; idempotent. Pending runs finish first. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#dead) {
        await this.#worker.terminate();
        return;
      }
      while (this.#pending.size) await new Promise((r) => setTimeout(r, 10));
      const closed = new Promise<void>((resolve) => {
        const t = setTimeout(() => resolve(), 5_000);
        this.#worker.once('exit', () => { clearTimeout(t); resolve(); });
      });
      this.#worker.postMessage({ type: 'close' });
      await closed;
      await this.#worker.terminate();
    })().finally(() => this.#unhookExit());
    return this.#closing;
  }
}
