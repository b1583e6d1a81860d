/**
 * A CPU install never tries to download onnxruntime-node's CUDA binaries, without the project
 * key `onnxruntime-node-install` (npm 11 warns about it, npm 12 drops it). The project's npm
 * settings (.npmrc: ignore-scripts) are applied to the real install script through
 * `npm rebuild onnxruntime-node`, with every proxy variable pointing at a local proxy that
 * records where clients try to go. A control run of the same script outside npm shows that the
 * proxy does see the NuGet download when it is attempted.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const ortDir = path.join(repoRoot, 'node_modules/onnxruntime-node');
const cudaLib = path.join(ortDir, 'bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so');
const targets: string[] = [];
let proxy: http.Server;
let proxyUrl: string;

beforeAll(async () => {
  proxy = http.createServer((req, res) => { targets.push(req.url ?? ''); res.writeHead(403).end(); });
  proxy.on('connect', (req: http.IncomingMessage, socket: import('node:net').Socket) => {
    targets.push(req.url ?? '');
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

/** The environment of a fresh shell: no npm_config_* handed down by the npm running vitest, no install flag. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_|^ONNXRUNTIME_NODE_INSTALL/i.test(k)) env[k] = v;
  }
  for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'GLOBAL_AGENT_HTTPS_PROXY', 'GLOBAL_AGENT_HTTP_PROXY']) env[k] = proxyUrl;
  env.NO_PROXY = '';
  env.npm_config_update_notifier = 'false';
  return env;
}

function exec(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(cmd, args, { cwd: repoRoot, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

const nuget = () => targets.filter((t) => /nuget/i.test(t));

it.skipIf(process.platform !== 'linux' || process.arch !== 'x64' || existsSync(cudaLib))('npm with the project settings runs no onnxruntime-node install script; the script alone would download CUDA', async () => {
  expect(readFileSync(path.join(repoRoot, '.npmrc'), 'utf8')).not.toMatch(/^onnxruntime-node-install/m);

  targets.length = 0;
  const rebuilt = await exec('npm', ['rebuild', 'onnxruntime-node', '--foreground-scripts']);
  expect(rebuilt.code, rebuilt.output).toBe(0);
  expect(nuget(), rebuilt.output).toEqual([]);
  expect(rebuilt.output).not.toMatch(/Unknown project config/);
  expect(existsSync(cudaLib)).toBe(false);

  // Control: the script itself, run as npm 10 without ignore-scripts would run it, goes to NuGet.
  targets.length = 0;
  const direct = await exec(process.execPath, [path.join(ortDir, 'script/install.js')]);
  expect(direct.code).not.toBe(0);
  expect(nuget().length, direct.output.slice(-1500)).toBeGreaterThan(0);
  expect(existsSync(cudaLib)).toBe(false);
}, 120_000);
