import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parseConfig, scaleOutSchema, workerSchema, type ScaleOutConfig, type WorkerConfig } from '../../shared/config.js';
import { E } from '../../shared/errors.js';
import { logger } from '../../shared/logger.js';
import type { QueueUi } from '../../ui/queue-ui.js';
import { SUPERVISED_ENV, WORKER_PROCESS_ENV, childSpecs } from '../../supervisor/child-command.js';
import type { ReadyMessage } from '../../supervisor/worker-process.js';
import { CONNECTION, SCALE_OUT, WORKER } from '../../shared/flags.js';
import { addFlags, pick, runCommand } from '../options.js';
import { onShutdownSignal } from '../signals.js';

/** The queue UI (bull-board, hono) is loaded only with --ui or --ui-write. */
async function queueUi(config: WorkerConfig, scale: ScaleOutConfig): Promise<{ ui: QueueUi; path: string } | undefined> {
  if (!scale.ui && !scale.uiWrite) return undefined;
  const { createQueueUi, UI_PATH } = await import('../../ui/queue-ui.js');
  return { path: UI_PATH, ui: createQueueUi({ redisUrl: config.redisUrl, prefix: config.prefix, queue: config.queue, resultsQueue: config.resultsQueue, write: scale.uiWrite }) };
}

/**
 * `--gpus` / `--processes`: supervise worker processes. First SIGTERM/SIGINT: every process
 * drains, exit 0 when all did. Second: SIGKILL every process by pid and exit 1.
 */
async function supervise(given: Record<string, unknown>, config: WorkerConfig, scale: ScaleOutConfig): Promise<number> {
  const { Supervisor } = await import('../../supervisor/supervisor.js');
  const sup = new Supervisor({
    specs: childSpecs(given, config, scale),
    cli: fileURLToPath(new URL('../main.js', import.meta.url)),
    metricsHost: config.metricsHost,
    metricsPort: config.metricsPort,
    shutdownGraceMs: config.shutdownGraceMs,
    restartBackoffMs: scale.restartBackoffMs,
    maxStartFailures: scale.maxStartFailures,
    ui: scale.ui || scale.uiWrite ? { redisUrl: config.redisUrl, prefix: config.prefix, queue: config.queue, resultsQueue: config.resultsQueue, write: scale.uiWrite } : undefined,
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger().warn({ signal }, 'second signal: SIGKILL every worker process and exit');
      sup.killAll();
      logger().flush?.();
      process.exit(1);
    }
    logger().info({ signal }, 'signal received: draining every worker process (send it again to kill them at once)');
    void sup.close();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await sup.start();
  return sup.finished;
}

/** In a supervised process: say where it runs, and drain if the supervisor goes away. */
function reportToSupervisor(config: WorkerConfig): void {
  logger().info({
    workerProcess: Number(process.env[WORKER_PROCESS_ENV]), cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES ?? null,
    device: config.device.kind === 'cpu' ? 'cpu' : `${config.device.kind}:${config.device.id}`, intraOpThreads: config.intraOpThreads,
  }, 'supervised worker process starting');
  // The IPC channel closes when the supervisor dies (even by SIGKILL): drain as on SIGTERM.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

export function workerCommand(): Command {
  const cmd = new Command('worker')
    .description('Serve a queue: documents in, one result per document to the results queue. Runs until SIGTERM/SIGINT (graceful: finishes the batch in flight). With --gpus or --processes, a supervisor runs one worker process per GPU (--processes-per-gpu for more; N with --processes) behind one metrics port.');
  addFlags(cmd, { ...CONNECTION, ...WORKER, ...SCALE_OUT });
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      const given = pick(opts, { ...CONNECTION, ...WORKER });
      const config = parseConfig(workerSchema, given);
      const scale = parseConfig(scaleOutSchema, pick(opts, SCALE_OUT));
      const supervised = process.env[SUPERVISED_ENV] === '1';
      if (scale.gpus || scale.processes) {
        if (supervised) {
          throw E.CONFIG('a supervised worker process was given --gpus or --processes', { hint: 'run the supervisor once, at the top: roberta-batch worker --gpus ... (its processes get neither flag)' });
        }
        return supervise(given, config, scale);
      }
      if (supervised) reportToSupervisor(config);
      // Loaded once the flags are valid: a usage error or --help never pays for the worker.
      const { RobertaWorker } = await import('../../worker/worker.js');
      const worker = new RobertaWorker(config);
      let ui: QueueUi | undefined;
      onShutdownSignal(async () => {
        const clean = await worker.close();
        await ui?.close();
        return clean;
      });
      try {
        await worker.start();
      } catch (err) {
        await worker.close();
        throw err;
      }
      const mounted = await queueUi(config, scale);
      ui = mounted?.ui;
      if (mounted && worker.httpServer) {
        worker.httpServer.mount(mounted.path, mounted.ui.handler);
        logger().info({ url: `http://${config.metricsHost}:${worker.httpServer.port}${mounted.path}`, readOnly: !scale.uiWrite }, 'queue UI listening');
      }
      if (supervised && process.send) {
        const info = worker.modelInfo;
        const msg: ReadyMessage = {
          type: 'ready', pid: process.pid, metricsPort: worker.metricsPort ?? 0, device: info?.device ?? 'cpu',
          intraOpThreads: config.intraOpThreads, cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES ?? null,
        };
        process.send(msg);
      }
      logger().info('worker running; SIGTERM or Ctrl-C to stop');
      await new Promise(() => {});
    }),
  );
  return cmd;
}
