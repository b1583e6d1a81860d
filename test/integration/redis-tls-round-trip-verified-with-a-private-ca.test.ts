/**
 * `rediss://` end to end. A private redis-server listens on TLS only (this
 * machine's redis-server links libssl), with a certificate signed by a CA made here with
 * openssl. With REDIS_TLS_CA pointing at that CA, enqueue → worker → results round-trips with
 * full certificate verification; without it the retry line names the certificate problem.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { waitFor } from '../helpers/queues.js';
import { freePort, waitForPort } from '../helpers/redis-server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-tls-'));
const spawned: Spawned[] = [];
let server: ChildProcess | undefined;

afterAll(async () => {
  await Promise.all(spawned.map((s) => stop(s, 5_000)));
  if (server && server.exitCode === null) {
    await new Promise<void>((r) => { server!.once('exit', () => r()); server!.kill('SIGKILL'); });
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A CA and a server certificate for localhost / 127.0.0.1 signed by it (RSA 2048, 1 day). */
function makeCertificates(): { ca: string; cert: string; key: string } {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=roberta-batch test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('san.ext'), '-out', f('server.pem'));
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

it('enqueues, scores and exports over rediss:// verified against REDIS_TLS_CA', async () => {
  const { ca, cert, key } = makeCertificates();
  const port = await freePort();
  server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', ca, '--tls-auth-clients', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  await waitForPort(port);
  const url = `rediss://localhost:${port}`;
  const env = { REDIS_URL: url, REDIS_TLS_CA: ca, REDIS_TLS_INSECURE: '' };
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(syntheticDocs(30, 4, 'tls')));

  // Without the CA the server's certificate cannot be verified: a clear retry reason, no crash.
  const unverified = spawnCli(['enqueue', input, '--queue', 'tls'], { REDIS_URL: url, REDIS_TLS_CA: '', REDIS_TLS_INSECURE: '' });
  spawned.push(unverified);
  await unverified.waitForOutput(/"reason":"[^"]*certificate[^"]*","msg":"waiting for Redis"/, 15_000);
  await stop(unverified, 1_000);

  const enq = await runCli(['enqueue', input, '--queue', 'tls', '--no-progress'], env, 60_000);
  expect(enq.code, enq.output).toBe(0);
  expect(enq.output).toMatch(/enqueued\s+30/);
  const model = await testModel('sequence-classification', 'hf');
  const worker = spawnCli(['worker', '--queue', 'tls', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash'], env);
  spawned.push(worker);
  await worker.waitForEvent(LOG_EVENT.ready);
  const out = path.join(dir, 'out.jsonl');
  await waitFor(async () => {
    const r = await runCli(['results', '--queue', 'tls', '--out', out], env, 60_000);
    expect(r.code, r.output).toBe(0);
    return readFileSync(out, 'utf8').split('\n').filter(Boolean).length === 30;
  }, 60_000, 500);
  const ids = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string; status: string }).id);
  expect(new Set(ids).size).toBe(30);
  expect(await stop(worker)).toBe(0);
}, 120_000);
