/** What a benchmark ran on, for the report: CPU model, cores, memory, versions, load. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  onnxruntime: string;
  bullmq: string;
  platform: string;
  /**
   * The C allocator of this process and the workers it starts (they inherit LD_PRELOAD): the
   * Rust tokenizer spends half its CPU in malloc/free under glibc, 1.3-1.5 x less under jemalloc
   * (docs/DEPLOY.md, "Memory allocator"), so figures are only comparable with the same one.
   */
  allocator: string;
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve(name);
    // Walk up from the entry point to the package's own package.json (exports maps hide it).
    let dir = main;
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        // not this level
      }
    }
  } catch {
    // not installed
  }
  return 'unknown';
}

export function describeMachine(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    // not Linux
  }
  return {
    cpuModel,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    bullmq: packageVersion('bullmq'),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    allocator: allocatorOf(process.env.LD_PRELOAD),
  };
}

/** `jemalloc (LD_PRELOAD)` and the like when a known allocator is preloaded, else glibc's malloc. */
export function allocatorOf(preload: string | undefined): string {
  const m = /jemalloc|mimalloc|tcmalloc/.exec(preload ?? '');
  return m ? `${m[0]} (LD_PRELOAD)` : 'glibc malloc';
}

/** The three load averages (1, 5, 15 min): the machine may be shared, figures are noisy when high. */
export function loadAverage(): [number, number, number] {
  try {
    const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return [a, b, c];
  } catch {
    const [a, b, c] = os.loadavg();
    return [a, b, c];
  }
}

/** Resident set size of a process from /proc/<pid>/status: current (VmRSS) and peak (VmHWM), bytes. */
export function processMemory(pid: number): { rss: number; peakRss: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s*(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system, all threads) a process has used, from /proc/<pid>/stat fields 14
 * and 15, in clock ticks of 10 ms (USER_HZ is 100 on every Linux ABI Node supports).
 */
export function processCpuSeconds(pid: number): number | undefined {
  return cpuSecondsOf(`/proc/${pid}/stat`);
}

/**
 * CPU seconds of one thread of a process, the same way (/proc/<pid>/task/<tid>/stat); a
 * process's main thread has tid = pid: JavaScript, BullMQ and the event loop all run there.
 */
export function threadCpuSeconds(pid: number, tid = pid): number | undefined {
  return cpuSecondsOf(`/proc/${pid}/task/${tid}/stat`);
}

function cpuSecondsOf(file: string): number | undefined {
  try {
    const s = readFileSync(file, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

let fullGc: (() => void) | null | undefined;

/**
 * A full garbage collection of this process, before a measured window: without it the garbage
 * of what the bench did just before (the tokenizer-alone reference leaves ~10,000 tokenizers
 * Encoding objects, whose finalizers free Rust memory; enqueueing leaves the packed jobs) was
 * collected during the next measurement, on the cores it measures. In pipeline-ceiling runs of
 * 10,000 documents the bench process then took 22-25 CPU µs per document instead of 5-10
 * (4 runs each, `bench --quick --only ceiling --ceiling-runs 64 --ceiling-rounds 2`).
 * `--expose-gc` set at run time makes `gc` available to contexts created afterwards.
 */
export async function settleHeap(): Promise<void> {
  if (fullGc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      fullGc = runInNewContext('gc') as () => void;
    } catch {
      fullGc = null;
    }
  }
  if (!fullGc) return;
  fullGc();
  // Native finalizers (the Encodings' Rust memory) run after the collection, from the event loop.
  await new Promise((r) => setTimeout(r, 50));
  fullGc();
  // Sweeping goes on concurrently after gc() returns, on the cores about to be measured.
  await new Promise((r) => setTimeout(r, 200));
}
