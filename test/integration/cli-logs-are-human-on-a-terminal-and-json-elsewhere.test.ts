/**
 * Logs for people and for machines. On a terminal (a pseudo-terminal from util-linux `script`)
 * `run` prints concise human lines, never a JSON line, and the random-weights banner right
 * before its summary; `--quiet` leaves the banner, the summary and errors; `--log-format json`
 * and a Kubernetes pod (KUBERNETES_SERVICE_HOST) keep JSON lines on a terminal; without a
 * terminal every stderr line is JSON, and `--verbose` adds debug lines.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, repoRoot } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { redisUrl, removeQueues, uniqueQueueName } from '../helpers/queues.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-logs-'));
const queues: string[] = [];
afterAll(async () => {
  for (const q of queues) await removeQueues(q);
  rmSync(dir, { recursive: true, force: true });
});

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const jsonLine = /^\{"level":\d+,/;

/** Runs the CLI with stdin, stdout and stderr on one pseudo-terminal; returns what it showed. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'info', REDIS_URL: redisUrl(), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, screen: stripAnsi(out).replace(/\r/g, '\n') })));
}

function piped(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'info', REDIS_URL: redisUrl(), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
const runArgs = (name: string) => ['run', 'examples/reviews.jsonl', '--out', path.join(dir, `${name}.jsonl`)];

describe.skipIf(!hasScript)('on a terminal', () => {
  it('npm start shows human lines, no JSON, and the random-weights banner before the summary', async () => {
    const r = await onTerminal(runArgs('tty'));
    expect(r.code, r.screen).toBe(0);
    const shown = lines(r.screen);
    expect(shown.filter((l) => jsonLine.test(l)), r.screen).toEqual([]);
    expect(r.screen).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: run starting/m);
    expect(r.screen).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: no fetched model/m);
    const banner = r.screen.indexOf('RANDOM WEIGHTS: this run used a generated test model');
    const summary = r.screen.indexOf('roberta-batch run run-');
    expect(banner, r.screen).toBeGreaterThan(-1);
    expect(summary).toBeGreaterThan(banner);
    expect(r.screen).toMatch(/documents\s+40\s+\(succeeded 40, failed 0\)/);
    // Progress while it runs, finished before the summary.
    expect(r.screen).toMatch(/^run: done, 40 docs in /m);
    expect(r.screen.indexOf('run: done, 40 docs')).toBeLessThan(banner);
  });

  it('--quiet: the banner, the summary and nothing else', async () => {
    const r = await onTerminal([...runArgs('quiet'), '--quiet']);
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).not.toMatch(/INFO|WARN|\{"level"/);
    expect(r.screen).toContain('RANDOM WEIGHTS');
    expect(r.screen).toMatch(/documents\s+40\s+\(succeeded 40, failed 0\)/);
  });

  it('--log-format json and a Kubernetes pod keep JSON lines on a terminal', async () => {
    const input = path.join(dir, 'docs.jsonl');
    writeFileSync(input, toJsonl(syntheticDocs(5, 3, 'logs')));
    for (const [flags, env] of [[['--log-format', 'json'], {}], [[], { KUBERNETES_SERVICE_HOST: '10.0.0.1' }]] as const) {
      const queue = uniqueQueueName('logs');
      queues.push(queue);
      const r = await onTerminal(['enqueue', input, '--queue', queue, '--no-progress', ...flags], env);
      expect(r.code, r.screen).toBe(0);
      const logLines = lines(r.screen).filter((l) => l.startsWith('{') || /\] (INFO|WARN):/.test(l));
      expect(logLines.length, r.screen).toBeGreaterThan(0);
      for (const l of logLines) expect(() => JSON.parse(l), l).not.toThrow();
    }
  });
});

describe('without a terminal', () => {
  it('every stderr line is JSON, the banner included; --verbose adds debug lines', async () => {
    const r = await piped([...runArgs('piped'), '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    const records = lines(r.stderr).map((l) => JSON.parse(l) as { level: number; msg: string; randomWeights?: boolean });
    expect(records.some((x) => x.randomWeights === true && x.level === 40 && /RANDOM WEIGHTS/.test(x.msg))).toBe(true);
    expect(records.some((x) => x.level === 20)).toBe(true);
    expect(r.stdout).toMatch(/documents\s+40\s+\(succeeded 40, failed 0\)/);
  });

  it('--log-format other is exit 2 naming the accepted values', async () => {
    const r = await piped(['--log-format', 'xml', 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--log-format (RB_LOG_FORMAT) "xml": expected auto, json or pretty');
  });
});
