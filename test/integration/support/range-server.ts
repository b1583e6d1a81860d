/**
 * A local static file server for download tests: 127.0.0.1, port 0, Range support (206/416),
 * and per-file faults (ignore Range, cut the socket mid-body, fail with 503 a few times,
 * redirect). Every request is recorded so tests can assert what the client sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  body: Buffer;
  /** Answer every request with 200 and the whole body, as servers without Range support do. */
  ignoreRange?: boolean;
  /** The first GET sends the headers of the full answer, then this many body bytes, then destroys the socket. */
  cutAfterBytes?: number;
  /** The first N GETs answer 503. */
  failTimes?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range: string | undefined;
  acceptEncoding: string | undefined;
}

export interface RangeServer {
  /** http://127.0.0.1:<port> (no trailing slash). */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export function testPayload(bytes: number): { body: Buffer; sha256: string } {
  const body = randomBytes(bytes);
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}

export async function startRangeServer(
  files: Record<string, ServedFile>,
  redirects: Record<string, string> = {},
): Promise<RangeServer> {
  const requests: RecordedRequest[] = [];
  const cutDone = new Set<string>();
  const failures = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({
      method: req.method ?? 'GET',
      path: urlPath,
      range: req.headers.range,
      acceptEncoding: req.headers['accept-encoding'] as string | undefined,
    });
    const location = redirects[urlPath];
    if (location !== undefined) {
      res.writeHead(302, { location }).end();
      return;
    }
    const file = files[urlPath];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const failed = failures.get(urlPath) ?? 0;
    if (file.failTimes !== undefined && failed < file.failTimes) {
      failures.set(urlPath, failed + 1);
      res.writeHead(503, { 'content-type': 'text/plain' }).end('try later');
      return;
    }
    const size = file.body.length;
    let start = 0;
    let status = 200;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !file.ignoreRange) {
      start = Number(m[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/octet-stream',
      'content-length': size - start,
      'accept-ranges': file.ignoreRange ? 'none' : 'bytes',
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(status, headers);
    const slice = file.body.subarray(start);
    if (file.cutAfterBytes !== undefined && !cutDone.has(urlPath)) {
      cutDone.add(urlPath);
      res.write(slice.subarray(0, file.cutAfterBytes), () => {
        // Give the client a moment to read what was sent, then drop the connection mid-body.
        setTimeout(() => res.socket?.destroy(), 50);
      });
      return;
    }
    res.end(slice);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
