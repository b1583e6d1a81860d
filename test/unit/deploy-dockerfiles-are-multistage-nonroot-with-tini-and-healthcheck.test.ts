/**
 * Lints deploy/Dockerfile and deploy/Dockerfile.cuda with a real Dockerfile parser
 * (dockerfile-ast); no Docker engine exists here, so the images are never built in tests.
 * Checks the rules of docs/DEPLOY.md against the code's defaults: multi-stage, the final stage
 * runs as a numeric non-root user under tini, HEALTHCHECK on /healthz at the default metrics
 * port, EXPOSE = that port, no secret-looking ENV/ARG, RB_* variables the CLI reads, sources
 * that the build context (.dockerignore) does not exclude, and for CUDA an install flag that
 * the installed onnxruntime-node script really reads as the CUDA 12 manifest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { envName, workerSchema } from '../../src/shared/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const defaults = workerSchema.parse({ model: 'unused' });
const FILES = ['deploy/Dockerfile', 'deploy/Dockerfile.cuda'] as const;

interface Stage { from: string; name?: string; instructions: Instruction[] }

function parse(file: string): { args: Map<string, string>; stages: Stage[] } {
  const df = DockerfileParser.parse(readFileSync(path.join(root, file), 'utf8'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of df.getInstructions()) {
    const kw = ins.getKeyword();
    const a = ins.getArguments().map((x) => x.getValue());
    if (kw === 'FROM') {
      const image = a[0].replace(/^\$\{?(\w+)\}?$/, (_, v: string) => args.get(v) ?? v);
      stages.push({ from: image, name: a[1]?.toUpperCase() === 'AS' ? a[2] : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (kw === 'ARG') for (const x of a) { const [k, v] = x.split('='); args.set(k, v ?? ''); }
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { args, stages };
}

/** `--from=build` etc.: dockerfile-ast keeps flags out of getArguments(). */
function fromFlag(ins: Instruction): string | undefined {
  const flags = (ins as unknown as { getFlags(): Array<{ getName(): string; getValue(): string | null }> }).getFlags();
  return flags.find((f) => f.getName() === 'from')?.getValue() ?? undefined;
}

/** `COPY --from=stage a b` as "stage:a b", plain COPY as "a b". */
function copyLine(ins: Instruction): string {
  const from = fromFlag(ins);
  return `${from ? `${from}:` : ''}${ins.getArgumentsContent() ?? ''}`;
}

function json(ins: Instruction): string[] {
  return JSON.parse(ins.getArgumentsContent() ?? '[]') as string[];
}

/** KEY=VALUE pairs of ENV/ARG instructions (both `K=V K2=V2` and legacy `K V`). */
function pairs(ins: Instruction): Array<[string, string]> {
  const a = ins.getArguments().map((x) => x.getValue());
  if (a.length === 2 && !a[0].includes('=')) return [[a[0], a[1]]];
  return a.map((x) => { const i = x.indexOf('='); return i < 0 ? [x, ''] : [x.slice(0, i), x.slice(i + 1)]; });
}

const ENTRYPOINT_VARS = new Set(['RB_FETCH_MODEL', 'RB_MODELS_DIR']);
// LD_PRELOAD: read by the dynamic loader (jemalloc under the tokenizer); it must name the library the image installs.
const readEnv = new Set([...Object.keys(workerSchema.shape).map(envName), ...ENTRYPOINT_VARS, 'NODE_ENV', 'LD_PRELOAD']);

describe.each(FILES)('%s', (file) => {
  const { args, stages } = parse(file);
  const final = stages[stages.length - 1];
  const kw = (s: Stage, k: string) => s.instructions.filter((i) => i.getKeyword() === k);

  it('is multi-stage: dependencies and the build in a build stage, dist/ copied into the final one', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => s.name === 'build')!;
    expect(build).toBeDefined();
    const buildRuns = kw(build, 'RUN').map((r) => r.getArgumentsContent()).join('\n');
    expect(buildRuns).toMatch(/npm ci\b/);
    expect(buildRuns).toMatch(/npm run build/);
    const copies = kw(final, 'COPY').map(copyLine);
    expect(copies).toContain('build:/app/dist ./dist');
    const allRuns = stages.flatMap((s) => kw(s, 'RUN')).map((r) => r.getArgumentsContent() ?? '');
    expect(allRuns.some((r) => /npm ci --omit=dev --ignore-scripts/.test(r)), 'production install without dev deps or the root prepare').toBe(true);
  });

  it('runs as a numeric non-root user under tini, with a HEALTHCHECK on /healthz', () => {
    const users = kw(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1].getArgumentsContent()!.split(':')[0];
    expect(user, 'numeric, so runAsNonRoot can verify it').toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);

    const [entry] = kw(final, 'ENTRYPOINT');
    const e = json(entry);
    expect(e[0]).toMatch(/\/tini$/);
    expect(e[1]).toBe('--');
    expect(e[2]).toBe('/usr/local/bin/docker-entrypoint.sh');
    expect(kw(final, 'RUN').some((r) => /apt-get install[^\n]*\btini\b/.test(r.getArgumentsContent() ?? ''))).toBe(true);

    const hc = kw(final, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const content = hc[0].getArgumentsContent()!;
    const cmd = JSON.parse(content.slice(content.indexOf('CMD') + 3).trim()) as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toContain("path:'/healthz'");
    expect(cmd.join(' ')).toContain(`process.env.RB_METRICS_PORT||${defaults.metricsPort}`);
  });

  it('exposes the default metrics port and binds the metrics server to all interfaces', () => {
    const exposed = kw(final, 'EXPOSE').flatMap((x) => x.getArguments().map((a) => a.getValue()));
    expect(exposed).toEqual([String(defaults.metricsPort)]);
    const env = new Map(kw(final, 'ENV').flatMap(pairs));
    expect(env.get('RB_METRICS_HOST')).toBe('0.0.0.0');
    expect(env.get('RB_METRICS_PORT')).toBe(String(defaults.metricsPort));
    for (const k of env.keys()) expect(readEnv.has(k), `ENV ${k} is read by the CLI or the entrypoint`).toBe(true);
  });

  it('preloads the jemalloc it installs, linked at the path LD_PRELOAD names on any architecture', () => {
    const env = new Map(kw(final, 'ENV').flatMap(pairs));
    const lib = env.get('LD_PRELOAD');
    expect(lib).toBe('/usr/local/lib/libjemalloc.so.2');
    const runs = kw(final, 'RUN').map((r) => r.getArgumentsContent() ?? '');
    expect(runs.some((r) => /apt-get install[^\n]*\blibjemalloc2\b/.test(r) && r.includes(`ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" ${lib}`))).toBe(true);
  });

  it('sets no ENV or ARG that looks like a secret', () => {
    const all = [...args.entries(), ...stages.flatMap((s) => [...kw(s, 'ENV'), ...kw(s, 'ARG')].flatMap(pairs))];
    expect(all.length).toBeGreaterThan(0);
    for (const [k, v] of all) {
      expect(k, `${k}`).not.toMatch(/PASSWORD|PASSWD|TOKEN|SECRET|(^|_)KEY$|CREDENTIAL|REDIS_URL/i);
      expect(v, `${k} value`).not.toMatch(/:\/\/[^/\s]*:[^/\s]*@/);
    }
  });

  it('copies only sources that exist and that .dockerignore keeps in the build context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const s of stages) {
      for (const c of kw(s, 'COPY')) {
        const a = c.getArguments().map((x) => x.getValue());
        if (fromFlag(c)) continue;
        for (const src of a.slice(0, -1)) {
          expect(existsSync(path.join(root, src)), `${src} exists`).toBe(true);
          expect(ignored.filter((p) => src === p || src.startsWith(`${p}/`)), `${src} is not excluded`).toEqual([]);
        }
      }
    }
  });
});

describe('deploy/Dockerfile.cuda', () => {
  const { args, stages } = parse('deploy/Dockerfile.cuda');

  it('runs on an NVIDIA CUDA 12 + cuDNN runtime base with Node 20 from the official image', () => {
    expect(stages[stages.length - 1].from).toMatch(/^nvidia\/cuda:12\.\d+\.\d+-cudnn\d*-runtime-/);
    expect(args.get('NODE_IMAGE')).toBe('node:20-bookworm-slim');
    const copies = stages[stages.length - 1].instructions.filter((i) => i.getKeyword() === 'COPY').map(copyLine);
    expect(copies).toContain('deps:/usr/local/bin/node /usr/local/bin/node');
    expect(copies).toContain('deps:/app/node_modules ./node_modules');
  });

  it('installs the CUDA 12 provider with a flag the install script reads, and checks the file arrived', () => {
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.getKeyword() === 'RUN').map((r) => r.getArgumentsContent() ?? ''));
    const run = runs.find((r) => r.includes('onnxruntime-node/script/install.js'))!;
    expect(run).toBeDefined();
    const flag = /ONNXRUNTIME_NODE_INSTALL=(\S+)/.exec(run)![1];
    const checked = /test -f node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/(\S+)/.exec(run)![1];

    const ortScripts = path.join(root, 'node_modules/onnxruntime-node/script');
    const probe = (env: Record<string, string>) => JSON.parse(execFileSync(process.execPath, ['-e', `
      const { parseInstallFlag } = require(${JSON.stringify(path.join(ortScripts, 'install-utils.js'))});
      const meta = require(${JSON.stringify(path.join(ortScripts, 'install-metadata.js'))});
      const f = parseInstallFlag();
      process.stdout.write(JSON.stringify({ flag: f === undefined ? null : f, linux: meta.requirements['linux/x64'], files: Object.keys(meta.manifests['linux/x64:cuda12']) }));
    `], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' })) as { flag: unknown; linux: string[]; files: string[] };

    // The Dockerfile's flag is not "skip": the linux/x64 default manifest, cuda12, installs.
    const withFlag = probe({ ONNXRUNTIME_NODE_INSTALL: flag });
    expect(withFlag.flag).not.toBe(false);
    expect(withFlag.linux).toContain('cuda12');
    expect(withFlag.files.map((f) => path.basename(f))).toContain(checked);
    // "skip" (what the removed .npmrc key said) is the only value that installs nothing.
    expect(probe({ ONNXRUNTIME_NODE_INSTALL: 'skip' }).flag).toBe(false);
  });
});

describe('deploy/docker-entrypoint.sh', () => {
  it('is valid sh, execs the CLI (signals reach node) and fetches only when the model is missing', () => {
    const file = path.join(root, 'deploy/docker-entrypoint.sh');
    execFileSync('sh', ['-n', file]);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('exec $CLI "$@"');
    expect(text).toMatch(/if \[ ! -f "\$dir\/\$RB_FETCH_MODEL\/model\.onnx" \]/);
    expect(text).toContain('models fetch "$RB_FETCH_MODEL" --dir "$dir"');
  });
});
