/**
 * The seam the batcher sees: something that runs a padded batch. Implemented by OnnxEngine
 * (same thread, for tests and tools) and InferenceThread (a worker thread owning the session,
 * what workers use so that session.run never blocks the thread that talks to Redis).
 */
import type { BatchOutput, BatchRequest, ModelInfo } from './engine.js';

export interface InferenceBackend {
  readonly info: ModelInfo;
  run(req: BatchRequest): Promise<BatchOutput>;
  close(): Promise<void>;
}
