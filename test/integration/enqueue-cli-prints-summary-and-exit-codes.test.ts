import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { useTestQueue } from '../helpers/test-queue.js';
import { tempDir } from '../helpers/temp-dir.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const main = path.join(root, 'dist/cli/main.js');
// The real binary when it loads; else the same command on a bare program (test/helpers/enqueue-cli.mjs).
const entry = spawnSync(process.execPath, [main, 'enqueue', '--help'], { encoding: 'utf8' }).status === 0
  ? main
  : path.join(root, 'test/helpers/enqueue-cli.mjs');

function cli(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, 'enqueue', ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`CLI did not exit within 30 s: ${stderr}`)); }, 30_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(opts.stdin ?? '');
  });
}

test('enqueue CLI: prints the summary, exit 0; a re-run is a no-op; stdin works', async () => {
  const { name, queue } = useTestQueue();
  const dir = tempDir('rb-cli-');
  const file = path.join(dir, 'train.csv');
  writeFileSync(file, 'textID,text,sentiment\na1,good,positive\na2,"bad, really",negative\na3,"broken"quote,neutral\n');

  const first = await cli([file, '--id-field', 'textID', '--json'], { env: { RB_QUEUE: name } });
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ queue: name, read: 3, enqueued: 2, alreadyQueued: 0, rejected: 1 });
  // By default a file's documents are packed (64 per job): both documents in one job.
  expect(await queue.getWaitingCount()).toBe(1);
  const [pack] = await queue.getWaiting();
  expect(pack.data.docs.map((d: { id: string }) => d.id)).toEqual(['a1', 'a2']);

  const human = await cli([file, '--id-field', 'textID', '--queue', name]);
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/^done: run run-\d{8}-\d{6}-[0-9a-f]{4} → queue "test-/);
  expect(human.stdout).toMatch(/already queued\s+2\n/);
  expect(human.stdout).toMatch(/rejected\s+1 \(pass --errors-out FILE to list them\)/);

  // --docs-per-job 1: one job per document, its id the (escaped) document id.
  const piped = await cli(['-', '--queue', name, '--json', '--docs-per-job', '1'], { stdin: 'one\ntwo\n\nthree\n' });
  expect(piped.code).toBe(0);
  expect(JSON.parse(piped.stdout)).toMatchObject({ enqueued: 3, skippedBlank: 1, jobs: 3 });
  expect((await queue.getJob('stdin%3A4'))?.data.docs[0]).toEqual({ id: 'stdin:4', text: 'three' });
});

test('enqueue CLI: invalid options exit 2 listing every invalid field; --strict exits 1 with the line, no stack trace', async () => {
  const { name } = useTestQueue();
  const bad = await cli(['x.jsonl', '--format', 'xml', '--docs-per-job', '0', '--encoding', 'ebcdic'], { env: { RB_QUEUE: name } });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('E_CONFIG: invalid configuration');
  expect(bad.stderr).toContain('--format (RB_FORMAT) "xml": expected auto, jsonl, csv or text');
  expect(bad.stderr).toContain('--docs-per-job (RB_DOCS_PER_JOB) "0": expected an integer from 1 to 100000');
  expect(bad.stderr).toContain('--encoding (RB_ENCODING) "ebcdic": expected utf8 or latin1');

  const unknown = await cli(['x.jsonl', '--no-such-flag']);
  expect(unknown.code).toBe(2);

  const dir = tempDir('rb-cli-');
  const file = path.join(dir, 'in.jsonl');
  writeFileSync(file, '{"id":"a","text":"x"}\n{"id":"b","text":\n');
  const strict = await cli([file, '--queue', name, '--strict']);
  expect(strict.code).toBe(1);
  expect(strict.stderr).toMatch(/E_INPUT_PARSE: line 2: not valid JSON \(unexpected end of line\) — fix that line, or run without --strict/);
  expect(strict.stderr).not.toMatch(/\n\s+at /);

  const missing = await cli([path.join(dir, 'nope.jsonl'), '--queue', name]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/E_INPUT_INVALID: cannot read input ".*nope.jsonl": ENOENT — check the path/);
});
