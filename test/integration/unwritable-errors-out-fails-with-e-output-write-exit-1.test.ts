/**
 * `--errors-out` in a folder that does not exist is an output that cannot be written
 * (E_OUTPUT_WRITE, exit 1), not invalid configuration (E_CONFIG, exit 2): the flag's value is
 * well-formed, the file system refuses it.
 */
import { writeFileSync} from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ErrorsFile } from '../../src/producer/errors-file.js';
import { RobertaBatchError } from '../../src/shared/errors.js';
import { spawnCli } from '../helpers/cli.js';
import { redisUrl, useTestQueue } from '../helpers/test-queue.js';
import { tempDir } from '../helpers/temp-dir.js';

it('ErrorsFile.open raises E_OUTPUT_WRITE naming the file', async () => {
  const dir = tempDir('rb-errors-out-');
  const target = path.join(dir, 'no-such-folder', 'rejected.jsonl');
  const err = await ErrorsFile.open(target).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RobertaBatchError);
  expect(err).toMatchObject({ code: 'E_OUTPUT_WRITE', exitCode: 1, retryable: false });
  expect((err as Error).message).toContain(target);
  expect((err as Error).message).toContain('ENOENT');
});

it('enqueue --errors-out into a missing folder exits 1 with E_OUTPUT_WRITE', async () => {
  const { name } = useTestQueue();
  const dir = tempDir('rb-errors-out-');
  const input = path.join(dir, 'in.jsonl');
  writeFileSync(input, '{"id":"a","text":"x"}\n');
  const cli = spawnCli(['enqueue', input, '--queue', name, '--errors-out', path.join(dir, 'missing', 'rejected.jsonl')], { REDIS_URL: redisUrl(), LOG_LEVEL: 'warn' });
  expect(await cli.exited).toBe(1);
  expect(cli.output()).toMatch(/E_OUTPUT_WRITE: cannot write --errors-out ".*missing\/rejected\.jsonl": ENOENT/);
  expect(cli.output()).not.toContain('E_CONFIG');
});
