import { Command } from 'commander';
import { givenFields, parseConfig, workerSchema, type WorkerConfig } from '../../shared/config.js';
import { CONNECTION, INPUT, PACKED_DOCS_PER_JOB, PIPELINE, WORKER, schemaOf, variant } from '../../shared/flags.js';
import { logger } from '../../shared/logger.js';
import { runProgress, showModelBanner } from '../output.js';
import type { RunSummary } from '../../pipeline/run.js';
import { addFlags, only, pick, readerOptions, runCommand } from '../options.js';
import { abortOnShutdownSignal } from '../signals.js';

function printSummary(s: RunSummary): void {
  const lines = [
    '',
    `roberta-batch run ${s.runId} — ${s.model ? `${s.model.name} (${s.model.signature}, ${s.model.device})` : ''}`,
    `  documents   ${s.documents}  (succeeded ${s.succeeded}, failed ${s.failed}${s.rejectedLines ? `, of which ${s.rejectedLines} rejected input lines` : ''}${s.alreadyQueued ? `, ${s.alreadyQueued} duplicates skipped` : ''})`,
    ...Object.entries(s.failuresByCode).map(([code, n]) => `    ${code}: ${n}`),
    `  throughput  ${s.documentsPerSecond.toFixed(1)} docs/s, ${s.tokensPerSecond.toFixed(0)} tokens/s over ${s.elapsedSeconds.toFixed(1)} s (model load included)`,
    `  batching    mean batch ${s.meanBatchSize.toFixed(1)} docs, padding ${(s.paddingFraction * 100).toFixed(1)}% of computed tokens`,
    `  latency     p50 ${s.latencyP50Ms.toFixed(0)} ms, p95 ${s.latencyP95Ms.toFixed(0)} ms (enqueue to result)`,
    `  results     ${s.out}`,
    `  failures    ${s.errorsOut}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

/** No --model: the zoo model if fetched, else a generated one (model/quickstart.ts). */
const RUN_WORKER = {
  ...WORKER,
  model: variant(WORKER.model, { required: false, help: 'ONNX model file or folder', defaultHelp: 'models/<zoo model> if fetched, else a generated test model' }),
  // Several workers in one process, each its own server: any free port, whatever RB_METRICS_PORT a worker host sets.
  metricsPort: variant(WORKER.metricsPort, { default: 0, env: undefined }),
};
const RUN_FLAGS = { ...PIPELINE, ...INPUT, ...CONNECTION, ...RUN_WORKER };
const runSchema = schemaOf(RUN_FLAGS);

export function runCommandDef(): Command {
  const cmd = new Command('run')
    .description('Score one input file end to end: Redis (REDIS_URL, else 127.0.0.1:6379, else a private redis-server), workers, producer, export, summary. Exit 0 when every document has a result or a recorded failure.')
    .argument('<input>', 'JSON Lines, CSV or text file (one document per line), or - for stdin');
  addFlags(cmd, RUN_FLAGS);
  cmd.action((input: string, opts: Record<string, unknown>) =>
    runCommand(async () => {
      // Every flag checked before anything starts (a default model may be generated next).
      const given = pick(opts, RUN_FLAGS);
      const c = parseConfig(runSchema, given);
      const explicit = givenFields(runSchema, given);
      // Loaded once the flags are valid: a usage error or --help never pays for the pipeline.
      const [{ defaultModelFor }, { runPipeline }] = await Promise.all([import('../../model/quickstart.js'), import('../../pipeline/run.js')]);
      let model = c.model;
      let generated = false;
      if (!model) ({ model, generated } = await defaultModelFor(c.task));
      const config = Object.freeze({ ...only(c, workerSchema.shape), model }) as WorkerConfig;
      const progress = runProgress('run');
      // First signal: stop reading, finish the jobs in flight, clean up (queues, temporary files,
      // a private redis-server) and exit 1 with E_SHUTDOWN; a second one ends the process at once.
      const shutdown = abortOnShutdownSignal();
      const running = shutdown.track(runPipeline({
        signal: shutdown.signal,
        input,
        out: c.out,
        errorsOut: c.errorsOut,
        workers: c.workers,
        keepQueues: c.keepQueues,
        // Unnamed: a queue of the run's own; Redis unnamed: 127.0.0.1:6379, else a private redis-server.
        queue: explicit.has('queue') ? c.queue : undefined,
        reader: readerOptions(c),
        docsPerJob: c.docsPerJob ?? PACKED_DOCS_PER_JOB,
        redisUrl: explicit.has('redisUrl') ? c.redisUrl : undefined,
        worker: config,
        onProgress: progress?.update,
      }));
      const summary = await running.finally(() => progress?.finish());
      if (generated) showModelBanner();
      printSummary(summary);
      logger().flush?.();
      return 0;
    }),
  );
  return cmd;
}
