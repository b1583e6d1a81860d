/**
 * One Prometheus exposition out of several processes' expositions: every sample gets a
 * `worker_process="<index>"` label, and the samples of one metric family are written under one
 * HELP/TYPE header (Prometheus rejects a family declared twice).
 *
 * Why not prom-client's AggregatorRegistry: it sums the processes into one series, and the
 * per-process series are what shows a stuck GPU or a crash-looping process; sums are a
 * PromQL `sum without (worker_process)` away.
 */

interface Family {
  help?: string;
  type?: string;
  samples: string[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/;
const HEADER = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/;

export const PROCESS_LABEL = 'worker_process';

export class ExpositionMerger {
  readonly #families = new Map<string, Family>();

  #family(name: string): Family {
    let f = this.#families.get(name);
    if (!f) this.#families.set(name, (f = { samples: [] }));
    return f;
  }

  /** Adds one exposition; `labels` go in front of each sample's own labels. */
  add(text: string, labels: Record<string, string> = {}): this {
    const inject = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
    let current: { name: string; family: Family } | undefined;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const h = HEADER.exec(line);
      if (h) {
        const family = this.#family(h[2]);
        if (h[1] === 'HELP') family.help ??= h[3];
        else family.type ??= h[3];
        current = { name: h[2], family };
        continue;
      }
      if (line.startsWith('#')) continue;
      const m = SAMPLE.exec(line);
      if (!m) continue;
      const [, name, rest] = m;
      // Histogram and summary samples (x_bucket, x_sum, x_count) belong to the family x above them.
      const family = current && name.startsWith(current.name) ? current.family : this.#family(name);
      if (!inject) family.samples.push(line);
      else if (rest.startsWith('{')) family.samples.push(`${name}{${inject}${rest.startsWith('{}') ? '' : ','}${rest.slice(1)}`);
      else family.samples.push(`${name}{${inject}}${rest}`);
    }
    return this;
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.#families) {
      if (f.help !== undefined) out.push(`# HELP ${name} ${f.help}`);
      if (f.type !== undefined) out.push(`# TYPE ${name} ${f.type}`);
      out.push(...f.samples);
    }
    return `${out.join('\n')}\n`;
  }
}
