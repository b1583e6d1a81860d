/**
 * Spawns the real CLI (dist/cli/main.js, built by the global setup) as a child process,
 * the way users and Kubernetes run it. Only processes started here are ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLogLine, type LogRecord } from '../../src/worker/worker-events.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(repoRoot, 'dist/cli/main.js');
export const FIXTURE_TOKENIZER = path.join(repoRoot, 'models/sample-tokenizer');

export interface Spawned {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the first JSON log line whose `event` field is `event` (worker-events.ts). */
  waitForEvent(event: string, timeoutMs?: number): Promise<LogLine>;
  /** Every JSON log line so far whose `event` field is `event`. */
  events(event: string): LogLine[];
  kill(signal?: NodeJS.Signals): void;
}

export type LogLine = LogRecord;

/** The JSON log lines of an output with this `event` field (other lines are skipped). */
export function logEvents(output: string, event: string): LogLine[] {
  const found: LogLine[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes(event)) continue;
    const rec = parseLogLine(line);
    if (rec?.event === event) found.push(rec);
  }
  return found;
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
  const waitFor = <T>(what: string, find: () => T | undefined, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) { cleanup(); resolve(found); }
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${what} in output:\n${out.slice(-3000)}`)); }, timeoutMs);
      const onExit = () => { check(); cleanup(); reject(new Error(`process exited before ${what} appeared:\n${out.slice(-3000)}`)); };
      const cleanup = () => { clearTimeout(timer); listeners.delete(check); child.off('exit', onExit); };
      listeners.add(check);
      child.once('exit', onExit);
      check();
    });
  return {
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => { if (child.exitCode === null && child.signalCode === null) child.kill(signal); },
    waitForOutput: (re, timeoutMs = 30_000) => waitFor(String(re), () => re.exec(out)?.[0], timeoutMs),
    waitForEvent: (event, timeoutMs = 30_000) => waitFor(`event ${event}`, () => logEvents(out, event)[0], timeoutMs),
    events: (event) => logEvents(out, event),
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
