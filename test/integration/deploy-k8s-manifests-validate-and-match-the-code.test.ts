/**
 * deploy/k8s, rendered per overlay (test/helpers/render-kustomize.ts), validates against the
 * Kubernetes, KEDA and Prometheus Operator schemas (kubernetes-models) and agrees with the code:
 * probe paths are routes the metrics server answers, ports are the default metrics port, env
 * var names are ones the CLI reads, queue/prefix/wait-list key match, and the pod's grace period
 * outlasts the worker's drain. No cluster exists here: this is what can be checked without one.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { CronJob } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { deviceSchema, envName, workerSchema } from '../../src/shared/config.js';
import { startMetricsServer } from '../../src/shared/http-server.js';
import { metricNames } from '../../src/worker/metrics.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE } from '../../src/shared/queues.js';
import { enqueueSchema } from '../../src/producer/options.js';
import { containersOf, loadYamlDocs, renderKustomization, type K8sObject } from '../helpers/render-kustomize.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const k8s = path.join(root, 'deploy/k8s');
const OVERLAYS = ['cpu', 'gpu'] as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/CronJob': CronJob,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

const defaults = workerSchema.parse({ model: 'unused' });
const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, renderKustomization(path.join(k8s, 'overlays', o))])) as Record<(typeof OVERLAYS)[number], K8sObject[]>;

function one(objs: K8sObject[], kind: string): K8sObject {
  const found = objs.filter((o) => o.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0];
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Environment variables something in this repository reads. */
function knownEnvNames(): Set<string> {
  const names = new Set<string>();
  for (const f of [...Object.keys(workerSchema.shape), ...Object.keys(enqueueSchema.shape)]) names.add(envName(f));
  const srcFiles = execFileSync('git', ['ls-files', 'src'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => f.endsWith('.ts'));
  for (const f of srcFiles) {
    const text = readFileSync(path.join(root, f), 'utf8');
    for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)|process\.env\[['"]([A-Z][A-Z0-9_]*)['"]\]|['"`]([A-Z][A-Z0-9_]{3,})['"`]/g)) names.add(m[1] ?? m[2] ?? m[3]);
  }
  const entry = readFileSync(path.join(root, 'deploy/docker-entrypoint.sh'), 'utf8');
  for (const m of entry.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)) names.add(m[1]);
  return names;
}

function get(port: number, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  const objs = rendered[overlay];

  it('renders only kinds with a schema, each valid against it and namespace-agnostic', () => {
    expect(objs.length).toBeGreaterThan(5);
    for (const o of objs) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind} has a schema in the test`).toBeDefined();
      expect(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name} sets no namespace`).toBeUndefined();
    }
    const ids = objs.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(objs.some((o) => o.kind === 'Secret'), 'no Secret is applied by default').toBe(false);
  });

  it('probes hit routes the metrics server answers, on the default metrics port', async () => {
    const dep = one(objs, 'Deployment') as Any;
    const worker = dep.spec.template.spec.containers.find((c: Any) => c.name === 'worker');
    const port = worker.ports.find((p: Any) => p.name === 'metrics');
    expect(port.containerPort).toBe(defaults.metricsPort);
    expect(worker.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(worker.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });

    const srv = await startMetricsServer({
      host: '127.0.0.1', port: 0, registry: () => '', contentType: 'text/plain',
      health: { ready: () => ({ ready: false, reasons: ['test'] }) },
    });
    try {
      expect(await get(srv.port, worker.livenessProbe.httpGet.path)).toBe(200);
      expect(await get(srv.port, worker.readinessProbe.httpGet.path)).toBe(503);
      expect(await get(srv.port, '/no-such-route')).toBe(404);
    } finally {
      await srv.close();
    }
  });

  it('Service, ServiceMonitor and PodDisruptionBudget select the worker pods on the metrics port', () => {
    const dep = one(objs, 'Deployment') as Any;
    const podLabels = dep.spec.template.metadata.labels;
    const svc = one(objs, 'Service') as Any;
    const sm = one(objs, 'ServiceMonitor') as Any;
    const pdb = one(objs, 'PodDisruptionBudget') as Any;
    expect(podLabels).toMatchObject(dep.spec.selector.matchLabels);
    expect(podLabels).toMatchObject(svc.spec.selector);
    expect(podLabels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(svc.spec.ports).toEqual([expect.objectContaining({ name: 'metrics', port: defaults.metricsPort, targetPort: 'metrics' })]);
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
  });

  it('settings name env vars the CLI reads, bind the metrics server to all interfaces, and the grace period outlasts the drain', () => {
    const cm = one(objs, 'ConfigMap') as Any;
    const known = knownEnvNames();
    for (const k of Object.keys(cm.data)) expect(known.has(k), `ConfigMap key ${k} is read by the code`).toBe(true);
    for (const o of objs) {
      for (const c of containersOf(o) as Any[]) {
        for (const e of c.env ?? []) expect(known.has(e.name), `${o.kind}/${o.metadata.name} env ${e.name} is read by the code`).toBe(true);
      }
    }
    expect(cm.data.RB_METRICS_HOST).toBe('0.0.0.0');
    expect(Number(cm.data.RB_METRICS_PORT)).toBe(defaults.metricsPort);
    expect(cm.data.RB_QUEUE).toBe(DEFAULT_QUEUE);
    expect(cm.data.RB_PREFIX).toBe(DEFAULT_PREFIX);

    const dep = one(objs, 'Deployment') as Any;
    const graceMs = Number(cm.data.RB_SHUTDOWN_GRACE_MS ?? defaults.shutdownGraceMs);
    expect(dep.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(graceMs / 1000);
    expect(dep.spec.replicas, 'KEDA owns the replica count').toBeUndefined();
    expect(dep.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const worker = dep.spec.template.spec.containers.find((c: Any) => c.name === 'worker');
    expect(worker.env.find((e: Any) => e.name === 'REDIS_URL').valueFrom.secretKeyRef).toEqual({ name: 'roberta-batch-redis', key: 'REDIS_URL' });
    expect(dep.spec.template.spec.containers, 'one worker process per pod').toHaveLength(1);
  });

  it('the ScaledObject scales the Deployment from zero on the drain-time metric and the BullMQ wait list', () => {
    const cm = one(objs, 'ConfigMap') as Any;
    const so = one(objs, 'ScaledObject') as Any;
    const dep = one(objs, 'Deployment');
    expect(so.spec.scaleTargetRef.name).toBe(dep.metadata.name);
    expect(so.spec.minReplicaCount).toBe(0);

    const prom = so.spec.triggers.find((t: Any) => t.type === 'prometheus');
    expect(prom.metadata.query).toContain(`queue="${cm.data.RB_QUEUE}"`);
    const names = new Set(metricNames());
    for (const m of prom.metadata.query.match(/roberta_batch_[a-z0-9_]+/g)) expect(names.has(m), m).toBe(true);
    expect(prom.metadata.query).toMatch(/^avg\(roberta_batch_drain_seconds\{/);
    expect(Number(prom.metadata.threshold)).toBeGreaterThan(0);

    const redis = so.spec.triggers.find((t: Any) => t.type === 'redis');
    expect(redis.metadata.listName).toBe(`${cm.data.RB_PREFIX}:${cm.data.RB_QUEUE}:wait`);
    expect(redis.metadata.activationListLength).toBe('0');
    const ta = objs.find((o) => o.kind === 'TriggerAuthentication' && o.metadata.name === redis.authenticationRef.name) as Any;
    expect(ta).toBeDefined();
    const [secret] = loadYamlDocs(path.join(k8s, 'base/secret.example.yaml')) as Any[];
    for (const ref of ta.spec.secretTargetRef) {
      expect(ref.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData)).toContain(ref.key);
    }
  });

  it('container args are commands and flags the CLI has', () => {
    const help = (args: string[]) => execFileSync(process.execPath, [path.join(root, 'dist/cli/main.js'), ...args, '--help'], { cwd: root, encoding: 'utf8' });
    for (const o of objs) {
      for (const c of containersOf(o) as Any[]) {
        const args: string[] = c.args;
        const cmd = args[0] === 'models' ? args.slice(0, 2) : args.slice(0, 1);
        const text = help(cmd);
        for (const flag of args.filter((a) => a.startsWith('--'))) expect(text, `${cmd.join(' ')} ${flag}`).toContain(flag);
      }
    }
  });
});

describe('overlays differ where they must', () => {
  const worker = (o: K8sObject[]) => (one(o, 'Deployment') as Any).spec.template.spec.containers.find((c: Any) => c.name === 'worker');
  const device = (o: K8sObject[]) => worker(o).env.find((e: Any) => e.name === 'RB_DEVICE').value;

  it('gpu: one nvidia.com/gpu per pod and a cuda device; cpu: no GPU and the cpu device', () => {
    expect(String(worker(rendered.gpu).resources.limits['nvidia.com/gpu'])).toBe('1');
    expect(deviceSchema.parse(device(rendered.gpu))).toEqual({ kind: 'cuda', id: 0 });
    expect(worker(rendered.cpu).resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(deviceSchema.parse(device(rendered.cpu))).toEqual({ kind: 'cpu' });
    expect(worker(rendered.gpu).image).toMatch(/cuda$/);
    expect(worker(rendered.cpu).image).toMatch(/cpu$/);
  });

  it('the patched ScaledObject keeps both triggers (custom resources replace lists whole)', () => {
    for (const o of OVERLAYS) expect((one(rendered[o], 'ScaledObject') as Any).spec.triggers.map((t: Any) => t.type)).toEqual(['prometheus', 'redis']);
  });
});

describe('base', () => {
  it('lists every manifest in its folder except the example Secret, which holds only placeholders', () => {
    const [k] = loadYamlDocs(path.join(k8s, 'base/kustomization.yaml')) as Any[];
    const files = readdirSync(path.join(k8s, 'base')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'secret.example.yaml');
    expect([...k.resources].sort()).toEqual(files.sort());
    const [secret] = loadYamlDocs(path.join(k8s, 'base/secret.example.yaml')) as Any[];
    expect(() => new Secret(secret).validate()).not.toThrow();
    expect(secret.stringData.REDIS_URL).toContain('CHANGE_ME');
    expect(secret.stringData['redis-password']).toBe('CHANGE_ME');
  });
});
