import { expect, test } from 'vitest';
import { parseConfig } from '../../src/shared/config.js';
import { ENQUEUE_DEFAULTS } from '../../src/producer/enqueue.js';
import { enqueueSchema, toEnqueueFileOptions } from '../../src/producer/options.js';

test('enqueue options: flags win over RB_* / REDIS_URL variables, which win over the defaults', () => {
  const env = { REDIS_URL: 'redis://r:6380', RB_QUEUE: 'from-env', RB_PREFIX: '{rb}', RB_STRICT: '1', RB_ENCODING: 'Latin-1', RB_DOCS_PER_JOB: '8' };
  const c = parseConfig(enqueueSchema, { queue: 'from-flag' }, env);
  expect(c).toMatchObject({
    redisUrl: 'redis://r:6380', queue: 'from-flag', prefix: '{rb}', strict: true, encoding: 'latin1', docsPerJob: 8,
    format: 'auto', idField: 'id', textField: 'text', autoId: false, chunkSize: 1000, maxWaiting: 100_000,
    maxDocBytes: 1 << 20, maxJobBytes: 2 << 20, allowEviction: false,
  });
  expect(Object.isFrozen(c)).toBe(true);
});

test('enqueue options: every invalid field is reported at once with the values it accepts', () => {
  let message = '';
  try {
    parseConfig(enqueueSchema, { format: 'xml', chunkSize: '-1', maxWaiting: 'lots', runId: 'has space' }, { RB_AUTO_ID: 'maybe' });
  } catch (err) {
    expect(err).toMatchObject({ code: 'E_CONFIG' });
    message = (err as Error).message;
  }
  expect(message.split('\n').slice(1).sort()).toEqual([
    '  --auto-id (RB_AUTO_ID) "maybe": expected true or false',
    '  --chunk-size (RB_CHUNK_SIZE) "-1": expected an integer from 1 to 100000',
    '  --format (RB_FORMAT) "xml": expected auto, jsonl, csv or text',
    '  --max-waiting (RB_MAX_WAITING) "lots": expected an integer >= 0',
    '  --run-id (RB_RUN_ID) "has space": expected 1-100 letters, digits, . _ or -',
  ]);
});

test('enqueue of a file packs 64 documents per job by default, one with --skip-unchanged, and --docs-per-job 1 stays available', () => {
  const opts = (flags: Record<string, unknown>) => toEnqueueFileOptions(parseConfig(enqueueSchema, flags, {}), 'in.jsonl');
  expect(ENQUEUE_DEFAULTS.fileDocsPerJob).toBe(64);
  expect(opts({}).docsPerJob).toBe(64);
  expect(opts({ skipUnchanged: true }).docsPerJob).toBe(1);
  expect(opts({ docsPerJob: '1' }).docsPerJob).toBe(1);
  expect(opts({ docsPerJob: '16' }).docsPerJob).toBe(16);
  // The library keeps one document per job unless asked (programs that look jobs up by document id).
  expect(ENQUEUE_DEFAULTS.docsPerJob).toBe(1);
});
