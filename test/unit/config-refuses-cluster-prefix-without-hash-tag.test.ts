/**
 * On Redis Cluster, BullMQ's Lua scripts need every key of a queue in one
 * hash slot; a prefix without a hash tag would fail later with CROSSSLOT on the first job.
 * The configuration refuses it up front, naming the flag, its variable and the fix.
 */
import { expect, it } from 'vitest';
import { connectionSchema, parseConfig } from '../../src/shared/config.js';
import { RobertaBatchError } from '../../src/shared/errors.js';

const CLUSTER = 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001';

it('refuses the default prefix on a cluster URL with E_CONFIG and the {rb} hint', () => {
  let err: unknown;
  try { parseConfig(connectionSchema, { redisUrl: CLUSTER }, {}); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(RobertaBatchError);
  expect((err as RobertaBatchError).code).toBe('E_CONFIG');
  expect((err as Error).message).toContain('--prefix (RB_PREFIX) "bull"');
  expect((err as Error).message).toContain("--prefix '{rb}'");
});

it('accepts a hash-tagged prefix from the environment, and any prefix on a single server', () => {
  expect(parseConfig(connectionSchema, { redisUrl: CLUSTER }, { RB_PREFIX: '{rb}' }).prefix).toBe('{rb}');
  expect(parseConfig(connectionSchema, { redisUrl: 'redis://127.0.0.1:6379', prefix: 'bull' }, {}).prefix).toBe('bull');
});
