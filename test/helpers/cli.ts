/**
 * Spawns the real CLI (dist/cli/main.js, built by the global setup) as a child process,
 * the way users and Kubernetes run it. Only processes started here are ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(repoRoot, 'dist/cli/main.js');
export const FIXTURE_TOKENIZER = path.join(repoRoot, 'models/sample-tokenizer');

export interface Spawned {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => { if (child.exitCode === null && child.signalCode === null) child.kill(signal); },
    waitForOutput: (re, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) { cleanup(); resolve(m[0]); }
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${re} in output:\n${out.slice(-3000)}`)); }, timeoutMs);
        const onExit = () => { check(); cleanup(); reject(new Error(`process exited before ${re} appeared:\n${out.slice(-3000)}`)); };
        const cleanup = () => { clearTimeout(timer); listeners.delete(check); child.off('exit', onExit); };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      }),
  };
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<{ code: number | string; output: string }> {
  const s = spawnCli(args, env);
  const timer = setTimeout(() => s.kill('SIGKILL'), timeoutMs);
  const code = await s.exited;
  clearTimeout(timer);
  return { code, output: s.output() };
}

/** Ends a spawned process: SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(s: Spawned, graceMs = 10_000): Promise<number | string> {
  s.kill('SIGTERM');
  const t = setTimeout(() => s.kill('SIGKILL'), graceMs);
  const code = await s.exited;
  clearTimeout(t);
  return code;
}
