/**
 * A small kustomize renderer for the deploy tests (no kustomize binary or cluster here, and no
 * JavaScript kustomize on npm). It implements exactly the fields deploy/k8s uses and throws on
 * any other, so a manifest can never rely on a feature these tests silently skip:
 *   resources (files and folders), patches (strategic merge from a file, matched by kind +
 *   metadata.name), images (name -> newName:newTag).
 * Strategic merge as kustomize applies it: maps merge, `null` deletes; lists of built-in kinds
 * merge by their patchMergeKey (containers/env/volumes by name, volumeMounts by mountPath, ports
 * by containerPort); every other list, and every list of a custom resource (KEDA, Prometheus
 * Operator: no OpenAPI merge keys), is replaced whole.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonMap = { [k: string]: Json };

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'patches', 'images']);
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
};

/** Every document of a YAML file; parse errors and warnings throw with the file name. */
export function loadYamlDocs(file: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: true });
  const out: K8sObject[] = [];
  for (const d of docs) {
    const problems = [...d.errors, ...d.warnings];
    if (problems.length) throw new Error(`${file}: ${problems.map((e) => e.message).join('; ')}`);
    const v = d.toJS() as K8sObject | null;
    if (v !== null) out.push(v);
  }
  return out;
}

function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Core API groups have no dot in apiVersion (v1, apps/v1, batch/v1, policy/v1). */
function isBuiltin(apiVersion: string): boolean {
  return !apiVersion.split('/')[0].includes('.') || apiVersion.split('/')[0].endsWith('.k8s.io');
}

export function strategicMerge(base: Json, patch: Json, builtin: boolean, key = ''): Json {
  if (isMap(base) && isMap(patch)) {
    const out: JsonMap = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = k in base ? strategicMerge(base[k], v, builtin, k) : v;
    }
    return out;
  }
  const mk = MERGE_KEYS[key];
  if (builtin && mk && Array.isArray(base) && Array.isArray(patch)) {
    const out = [...base];
    for (const item of patch) {
      const i = isMap(item) ? out.findIndex((b) => isMap(b) && b[mk] === item[mk]) : -1;
      if (i >= 0) out[i] = strategicMerge(out[i], item, builtin);
      else out.push(item);
    }
    return out;
  }
  return patch;
}

function podSpecs(o: K8sObject): JsonMap[] {
  const spec = o.spec as JsonMap | undefined;
  if (!spec) return [];
  if (o.kind === 'CronJob') {
    const job = (spec.jobTemplate as JsonMap | undefined)?.spec as JsonMap | undefined;
    return [((job?.template as JsonMap | undefined)?.spec as JsonMap)].filter(Boolean);
  }
  const tpl = spec.template as JsonMap | undefined;
  return tpl?.spec ? [tpl.spec as JsonMap] : [];
}

/** Containers and init containers of a workload (Deployment, CronJob, ...). */
export function containersOf(o: K8sObject): JsonMap[] {
  return podSpecs(o).flatMap((p) => [...((p.initContainers as JsonMap[]) ?? []), ...((p.containers as JsonMap[]) ?? [])]);
}

export function renderKustomization(dir: string): K8sObject[] {
  const kfile = path.join(dir, 'kustomization.yaml');
  const [k] = loadYamlDocs(kfile) as unknown as Array<Record<string, unknown>>;
  const unknown = Object.keys(k).filter((f) => !SUPPORTED.has(f));
  if (unknown.length) throw new Error(`${kfile}: fields this renderer does not implement: ${unknown.join(', ')}`);

  let objs: K8sObject[] = [];
  for (const r of (k.resources as string[] | undefined) ?? []) {
    const p = path.resolve(dir, r);
    objs.push(...(statSync(p).isDirectory() ? renderKustomization(p) : loadYamlDocs(p)));
  }

  for (const patch of (k.patches as Array<Record<string, unknown>> | undefined) ?? []) {
    const extra = Object.keys(patch).filter((f) => f !== 'path');
    if (extra.length) throw new Error(`${kfile}: patch fields not implemented: ${extra.join(', ')}`);
    for (const doc of loadYamlDocs(path.resolve(dir, patch.path as string))) {
      const i = objs.findIndex((o) => o.kind === doc.kind && o.metadata.name === doc.metadata.name);
      if (i < 0) throw new Error(`${kfile}: patch ${patch.path as string} matches no resource ${doc.kind}/${doc.metadata.name}`);
      if (objs[i].apiVersion !== doc.apiVersion) throw new Error(`${kfile}: patch ${patch.path as string} has apiVersion ${doc.apiVersion}, resource has ${objs[i].apiVersion}`);
      objs[i] = strategicMerge(objs[i] as unknown as Json, doc as unknown as Json, isBuiltin(doc.apiVersion)) as unknown as K8sObject;
    }
  }

  const images = (k.images as Array<{ name: string; newName?: string; newTag?: string }> | undefined) ?? [];
  if (images.length) {
    objs = objs.map((o) => structuredClone(o));
    for (const o of objs) {
      for (const c of containersOf(o)) {
        const [name, tag] = String(c.image).split(':');
        const img = images.find((i) => i.name === name);
        if (img) c.image = `${img.newName ?? name}${img.newTag ?? tag ? `:${img.newTag ?? tag}` : ''}`;
      }
    }
  }
  return objs;
}
