/**
 * REDIS_URL names the topology. redis+cluster:// lists seed nodes of a Redis
 * Cluster, redis+sentinel://…/mastername lists Sentinels and the master they watch; both keep
 * credentials out of logs, and malformed forms fail with E_CONFIG naming the accepted forms.
 */
import { expect, it } from 'vitest';
import { RobertaBatchError } from '../../src/shared/errors.js';
import { hasHashTag, parseRedisUrl, redactRedisUrl } from '../../src/shared/redis-url.js';

it('parses a cluster URL into its seed nodes, with ACL credentials for every node', () => {
  const t = parseRedisUrl('redis+cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002');
  expect(t.kind).toBe('cluster');
  if (t.kind !== 'cluster') return;
  expect(t.nodes).toEqual([{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 6379 }, { host: '::1', port: 7002 }]);
  expect(t.options).toMatchObject({ username: 'app', password: 's@cret', maxRetriesPerRequest: null });
  expect(t.options.tls).toBeUndefined();
  expect(parseRedisUrl('rediss+cluster://h:7000').options.tls).toBeDefined();
});

it('parses a sentinel URL into sentinels, master name, db and sentinel password', () => {
  const t = parseRedisUrl('redis+sentinel://:pw@s1:26380,s2/mymaster?db=3&sentinelPassword=spw');
  expect(t.kind).toBe('sentinel');
  expect(t.options).toMatchObject({
    sentinels: [{ host: 's1', port: 26380 }, { host: 's2', port: 26379 }],
    name: 'mymaster', db: 3, password: 'pw', sentinelPassword: 'spw', maxRetriesPerRequest: null,
  });
});

it('keeps plain redis:// URLs as single servers', () => {
  const t = parseRedisUrl('redis://u:p@example:6380/2');
  expect(t).toMatchObject({ kind: 'single', options: { host: 'example', port: 6380, db: 2, username: 'u', password: 'p' } });
});

it('refuses malformed multi-host URLs with E_CONFIG and the accepted forms', () => {
  for (const url of ['redis+sentinel://s1:26379', 'redis+cluster://h:7000/2', 'redis+cluster://', 'redis+cluster://h:99999', 'redis+pool://h:1']) {
    let err: unknown;
    try { parseRedisUrl(url); } catch (e) { err = e; }
    expect(err, url).toBeInstanceOf(RobertaBatchError);
    expect((err as RobertaBatchError).code).toBe('E_CONFIG');
  }
});

it('redacts passwords of multi-host URLs', () => {
  expect(redactRedisUrl('redis+cluster://app:secret@h1:7000,h2:7001')).toBe('redis+cluster://app:***@h1:7000,h2:7001');
  expect(redactRedisUrl('redis+sentinel://:pw@s1/m?sentinelPassword=spw')).toBe('redis+sentinel://:***@s1/m?sentinelPassword=***');
});

it('recognises hash tags the way Redis hashes keys', () => {
  expect(hasHashTag('{rb}')).toBe(true);
  expect(hasHashTag('app{rb}')).toBe(true);
  expect(hasHashTag('bull')).toBe(false);
  expect(hasHashTag('{}rb')).toBe(false); // empty tag: Redis hashes the whole key
  expect(hasHashTag('{rb')).toBe(false);
});
