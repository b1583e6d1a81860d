/**
 * Reads a V8 .cpuprofile (node --cpu-prof) into self time per function, so the bench can say
 * what limits a run without opening DevTools. Self time = samples whose top frame is the node,
 * weighted by the sample intervals.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** Share of all samples (0..1). */
  share: number;
}

export function selfTimes(file: string, top = 15): SelfTime[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const acc = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const n = byId.get(id);
    if (!n) return;
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    acc.set(key, (acc.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...acc.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, t]) => ({ name, share: total ? t / total : 0 }));
}
