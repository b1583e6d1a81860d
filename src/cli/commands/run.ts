import { Command, Option } from 'commander';
import { parseConfig, pipelineSchema, workerSchema } from '../../shared/config.js';
import { logger } from '../../shared/logger.js';
import { runProgress, showModelBanner } from '../output.js';
import type { Task } from '../../shared/types.js';
import { defaultModelFor } from '../../model/quickstart.js';
import { runPipeline, type RunSummary } from '../../pipeline/run.js';
import { ENQUEUE_DEFAULTS } from '../../producer/enqueue.js';
import { CONNECTION_FLAGS, INPUT_FLAGS, MAX_JOB_BYTES_FLAG, WORKER_FLAGS, addFlags, pick, readerOptionsFrom, runCommand } from '../options.js';
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

export function runCommandDef(): Command {
  const cmd = new Command('run')
    .description('Score one input file end to end: Redis (REDIS_URL, else 127.0.0.1:6379, else a private redis-server), workers, producer, export, summary. Exit 0 when every document has a result or a recorded failure.')
    .argument('<input>', 'JSON Lines, CSV or text file (one document per line), or - for stdin')
    .requiredOption('--out <file>', 'JSON Lines file for the results')
    .addOption(new Option('--errors-out <file>', 'failures and rejected lines (default <out>.errors.jsonl)'))
    .addOption(new Option('--workers <n>', 'worker instances (each with its own onnxruntime session) (default 1) [env RB_WORKERS]'))
    .addOption(new Option('--docs-per-job <n>', `documents packed into one job; 1 = one job per document (default ${ENQUEUE_DEFAULTS.fileDocsPerJob}) [env RB_DOCS_PER_JOB]`))
    .option('--keep-queues', 'keep the run queue and its results in Redis afterwards');
  addFlags(cmd, [...INPUT_FLAGS, MAX_JOB_BYTES_FLAG, ...CONNECTION_FLAGS, ...WORKER_FLAGS.filter(([f]) => f !== 'model')]);
  cmd.addOption(new Option('--model <path>', 'ONNX model file or folder (default: models/<zoo model> if fetched, else a generated test model) [env RB_MODEL]'));
  cmd.action((input: string, opts: Record<string, unknown>) =>
    runCommand(async () => {
      const sizes = parseConfig(pipelineSchema, { workers: opts.workers, docsPerJob: opts.docsPerJob });
      const task = (opts.task ?? process.env.RB_TASK ?? 'sentiment') as Task;
      let model = (opts.model as string | undefined) ?? process.env.RB_MODEL;
      let generated = false;
      if (!model && (task === 'sentiment' || task === 'embed')) ({ model, generated } = await defaultModelFor(task));
      const flags = { ...pick(opts, [...CONNECTION_FLAGS, ...WORKER_FLAGS]), model, metricsPort: opts.metricsPort ?? 0 };
      const config = parseConfig(workerSchema, flags);
      const progress = runProgress('run');
      const explicitQueue = opts.queue !== undefined || process.env.RB_QUEUE !== undefined;
      // First signal: stop reading, finish the jobs in flight, clean up (queues, temporary files,
      // a private redis-server) and exit 1 with E_SHUTDOWN; a second one ends the process at once.
      const shutdown = abortOnShutdownSignal();
      const running = shutdown.track(runPipeline({
        signal: shutdown.signal,
        input,
        out: String(opts.out),
        errorsOut: opts.errorsOut as string | undefined,
        workers: sizes.workers,
        keepQueues: Boolean(opts.keepQueues),
        queue: explicitQueue ? config.queue : undefined,
        reader: readerOptionsFrom(opts),
        docsPerJob: sizes.docsPerJob ?? ENQUEUE_DEFAULTS.fileDocsPerJob,
        redisUrl: (opts.redisUrl as string | undefined) ?? process.env.REDIS_URL,
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
