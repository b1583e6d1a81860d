/**
 * ioredis' ReplyError for a refused AUTH carries the command it failed on,
 * `{ name: 'auth', args: [password] }`. However such an error reaches a log call (as `err`, as a
 * field, as the first argument), the password is not printed, in JSON and in human lines.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

it.each(['json', 'pretty'])('%s logs redact the AUTH arguments inside error objects', (format) => {
  const secret = `pw-${Math.random().toString(36).slice(2)}`;
  const script = `
    import { createLogger } from ${JSON.stringify(path.join(repoRoot, 'dist/shared/logger.js'))};
    const log = createLogger({ format: ${JSON.stringify(format)} });
    const e = new Error('WRONGPASS invalid username-password pair or user is disabled.');
    e.name = 'ReplyError';
    e.command = { name: 'auth', args: [${JSON.stringify(secret)}] };
    log.error(e, 'as the first argument');
    log.error({ err: e }, 'as err');
    log.warn({ reason: e }, 'as a field');
    log.warn({ error: e, password: ${JSON.stringify(secret)} }, 'as another field, next to a password field');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });
  expect(r.status, r.stderr).toBe(0);
  const stderr = r.stderr;
  expect(stderr).toContain('WRONGPASS');
  expect(stderr.match(/as the first argument|as err|as a field|as another field/g)).toHaveLength(4);
  expect(stderr).not.toContain(secret);
});
