/**
 * What a RobertaWorker is built from, with the production parts as defaults: a test can run a
 * worker in its own process with another real backend (a deterministic one, an OnnxEngine on
 * the test thread) or its own logger, and the worker still talks to a real Redis.
 */
import type { ConnectionOptions } from 'bullmq';
import { logger, type Logger } from '../shared/logger.js';
import { bullConnection, connect, type RedisClient } from '../shared/redis.js';
import type { InferenceBackend } from './backend.js';
import type { EngineOptions } from './engine.js';
import { InferenceThread } from './inference-thread.js';

/** Loads a checked model file; the default runs onnxruntime in a worker thread. */
export type BackendFactory = (modelFile: string, opts: EngineOptions) => Promise<InferenceBackend>;

export interface RedisFactory {
  /** A lazily connecting client (bookkeeping, markers, readiness). */
  client(url: string): RedisClient;
  /** Connection options for BullMQ's queues and worker. */
  bull(url: string): ConnectionOptions;
}

/** Wall-clock time for job and record timestamps and the measured rate (ms since the epoch). */
export interface WorkerClock {
  now(): number;
}

export interface WorkerDeps {
  log?: Logger;
  backend?: BackendFactory;
  redis?: RedisFactory;
  clock?: WorkerClock;
}

export const defaultBackend: BackendFactory = (file, opts) => InferenceThread.start(file, opts);

export const defaultRedis: RedisFactory = { client: (url) => connect(url), bull: bullConnection };

export const systemClock: WorkerClock = { now: () => Date.now() };

export function withDefaults(deps: WorkerDeps): Required<WorkerDeps> {
  return {
    log: deps.log ?? logger(),
    backend: deps.backend ?? defaultBackend,
    redis: deps.redis ?? defaultRedis,
    clock: deps.clock ?? systemClock,
  };
}
