/**
 * The TLS settings of rediss:// connections, read once from the flag table (--redis-tls-ca /
 * REDIS_TLS_CA, --redis-tls-insecure / REDIS_TLS_INSECURE) and handed to the connection factory,
 * so that below the CLI no module reads them from the environment.
 */
import { parseConfig } from '../shared/config.js';
import { CONNECTION, schemaOf } from '../shared/flags.js';
import { configureRedisTls } from '../shared/redis-url.js';
import { pick } from './options.js';

const TLS = { redisTlsCa: CONNECTION.redisTlsCa, redisTlsInsecure: CONNECTION.redisTlsInsecure };
const tlsSchema = schemaOf(TLS);

/** Commands without connection flags (bench, chaos, soak) still honour the variables for the processes they connect from. */
export function configureRedisTlsFrom(opts: Record<string, unknown>): void {
  const c = parseConfig(tlsSchema, pick(opts, TLS));
  configureRedisTls({ ca: c.redisTlsCa, insecure: c.redisTlsInsecure });
}
