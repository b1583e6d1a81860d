/**
 * The worker's HTTP endpoints: /metrics (Prometheus), /healthz (the process and its event
 * loop are alive), /readyz (model loaded, Redis connected, not shutting down).
 * Binds to 127.0.0.1 unless configured otherwise: metrics reveal queue names and rates.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { E } from './errors.js';

export interface Readiness {
  ready: boolean;
  reasons: string[];
  /** Extra detail for operators (the supervisor lists its worker processes here). */
  [detail: string]: unknown;
}

export interface HealthSource {
  /** May be asynchronous: the supervisor asks its worker processes. */
  ready(): Readiness | Promise<Readiness>;
}

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface MetricsServer {
  readonly port: number;
  readonly server: http.Server;
  /** Serves `prefix` and everything under it (e.g. the queue UI at /ui) with `handler`. */
  mount(prefix: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: {
  host: string;
  port: number;
  registry: () => Promise<string> | string;
  contentType: string;
  health: HealthSource;
  beforeScrape?: () => Promise<void>;
}): Promise<MetricsServer> {
  const mounts: { prefix: string; handler: RouteHandler }[] = [];
  const server = http.createServer(async (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    try {
      if (url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else if (url === '/readyz') {
        const r = await opts.health.ready();
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r));
      } else if (url === '/metrics') {
        await opts.beforeScrape?.().catch(() => {});
        const body = await opts.registry();
        res.writeHead(200, { 'content-type': opts.contentType }).end(body);
      } else {
        const mount = mounts.find((m) => url === m.prefix || url.startsWith(`${m.prefix}/`));
        if (mount) await mount.handler(req, res);
        else res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${['/metrics', '/healthz', '/readyz', ...mounts.map((m) => m.prefix)].join(', ')}\n`);
      }
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${(err as Error).message}\n`);
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
        reject(E.PORT_IN_USE(`cannot listen on ${opts.host}:${opts.port}: ${err.code === 'EADDRINUSE' ? 'another process (a second worker on this host?) already listens there' : 'permission denied'}`, {
          hint: 'give each worker on a host its own --metrics-port (RB_METRICS_PORT), or --metrics-port 0 for any free port (logged at start)',
          cause: err,
        }));
      } else reject(err);
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    server,
    mount: (prefix, handler) => { mounts.push({ prefix: prefix.replace(/\/+$/, ''), handler }); },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
