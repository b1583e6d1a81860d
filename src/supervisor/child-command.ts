/**
 * The command line and environment of each supervised worker process: the same CLI
 * (`node dist/cli/main.js worker ...`) with the flags the user gave, minus the supervisor's,
 * plus what differs per process: its GPU, device, threads, metrics port and worker id.
 * `--gpus 0,1 --processes-per-gpu 2` runs processes 0 and 1 on GPU 0, 2 and 3 on GPU 1.
 */
import os from 'node:os';
import type { ScaleOutConfig, WorkerConfig } from '../shared/config.js';
import { configError } from '../shared/config.js';
import { ALL_FLAGS, SCALE_OUT, WORKER, longFlag } from '../shared/flags.js';

/** Set in every supervised process: it then reports to its supervisor and never supervises. */
export const SUPERVISED_ENV = 'RB_SUPERVISED';
/** The process's index, which is also its `worker_process` label in the supervisor's /metrics. */
export const WORKER_PROCESS_ENV = 'RB_WORKER_PROCESS';

/** Flags every child gets from the supervisor instead of from the user. */
const PER_PROCESS_FIELDS = ['device', 'intraOpThreads', 'metricsPort', 'metricsHost', 'workerId'];
/** Supervisor settings' variables: removed from the children's environment so that none of them recurses. */
const SCALE_OUT_VARIABLES = Object.values(SCALE_OUT).map((e) => e.env).filter((v): v is string => v !== undefined);

export interface ChildSpec {
  index: number;
  /** The host's GPU index (`--gpus`), undefined on CPU. */
  gpu: number | undefined;
  args: string[];
  env: NodeJS.ProcessEnv;
}

function flagOf(field: string): string {
  return longFlag(ALL_FLAGS[field]);
}

const given = (env: NodeJS.ProcessEnv, variable: string | undefined) => variable !== undefined && !!env[variable];

/**
 * `flags`: the connection and worker flags exactly as the user passed them (defaults and
 * environment are left to each child, which inherits the environment and validates the same
 * way). `config`: the same, validated, so that a bad flag fails once, in the supervisor.
 */
export function childSpecs(flags: Record<string, unknown>, config: WorkerConfig, scale: ScaleOutConfig, env: NodeJS.ProcessEnv = process.env): ChildSpec[] {
  const gpus = scale.gpus;
  // With --processes-per-gpu n, processes i*n .. i*n+n-1 share the i-th GPU of --gpus.
  const perGpu = gpus ? (scale.processesPerGpu ?? 1) : 1;
  const count = gpus ? gpus.length * perGpu : (scale.processes ?? 1);
  if (gpus && config.device.kind === 'cpu' && (flags.device !== undefined || given(env, WORKER.device.env))) {
    throw configError(['--device "cpu": --gpus runs one process per GPU on CUDA; use --device cuda (the default with --gpus) or auto, or --processes N for CPU']);
  }
  // Without --threads-per-process, N processes share the cores: onnxruntime's default of one
  // thread per core in each process would run N x cores threads and thrash (2 cores, 2
  // processes: 1 thread each). An explicit --intra-op-threads still wins.
  const userThreads = flags.intraOpThreads !== undefined || given(env, WORKER.intraOpThreads.env) ? config.intraOpThreads : undefined;
  const threads = scale.threadsPerProcess ?? userThreads ?? Math.max(1, Math.floor(os.availableParallelism() / count));
  const common: string[] = [];
  for (const [field, value] of Object.entries(flags)) {
    if (PER_PROCESS_FIELDS.includes(field) || value === undefined || value === false) continue;
    if (value === true) common.push(flagOf(field));
    else common.push(flagOf(field), Array.isArray(value) ? value.join(',') : String(value));
  }
  const childEnv: NodeJS.ProcessEnv = { ...env };
  for (const variable of SCALE_OUT_VARIABLES) delete childEnv[variable];

  return Array.from({ length: count }, (_, index) => {
    const gpu = gpus?.[Math.floor(index / perGpu)];
    // Inside a process that sees one GPU, that GPU is device 0 whatever its host index.
    const device = gpu === undefined ? undefined : config.device.kind === 'auto' ? 'auto:0' : 'cuda:0';
    const args = [
      'worker', ...common,
      ...(device ? ['--device', device] : flags.device !== undefined ? ['--device', String(flags.device)] : []),
      '--intra-op-threads', String(threads),
      // Children serve /metrics on any free port of the loopback: only the supervisor's
      // server is meant to be scraped, and it reaches them there.
      '--metrics-port', '0', '--metrics-host', '127.0.0.1',
      '--worker-id', `${config.workerId}-${index}`,
    ];
    const e: NodeJS.ProcessEnv = { ...childEnv, [SUPERVISED_ENV]: '1', [WORKER_PROCESS_ENV]: String(index) };
    if (gpu !== undefined) e.CUDA_VISIBLE_DEVICES = String(gpu);
    return { index, gpu, args, env: e };
  });
}
