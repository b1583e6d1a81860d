/**
 * The worker's HTTP endpoints: /metrics (Prometheus), /healthz (the process and its event
 * loop are alive), /readyz (model loaded, Redis connected, not shutting down).
 * Binds to 127.0.0.1 unless configured otherwise: metrics reveal queue names and rates.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthSource {
  ready(): { ready: boolean; reasons: string[] };
}

export interface MetricsServer {
  readonly port: number;
  /** Extra routes (e.g. the queue UI) can be mounted here. */
  readonly server: http.Server;
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
  const server = http.createServer(async (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    try {
      if (url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else if (url === '/readyz') {
        const r = opts.health.ready();
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: r.ready, reasons: r.reasons }));
      } else if (url === '/metrics') {
        await opts.beforeScrape?.().catch(() => {});
        const body = await opts.registry();
        res.writeHead(200, { 'content-type': opts.contentType }).end(body);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** Registry text for a prom-client registry. */
export function registryText(reg: Registry): () => Promise<string> {
  return () => reg.metrics();
}
