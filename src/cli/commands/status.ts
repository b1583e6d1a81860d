import { Command } from 'commander';
import { Queue } from 'bullmq';
import { connectionSchema, givenFields, parseConfig } from '../../shared/config.js';
import { CONNECTION, REDIS_WAIT_MS, REPORT, STATUS, schemaOf } from '../../shared/flags.js';
import { E } from '../../shared/errors.js';
import { bullConnection, connect } from '../../shared/redis.js';
import { waitForRedis } from '../../shared/redis-checks.js';
import { listActiveRuns } from '../../shared/active-runs.js';
import { listRuns, progressOf, readRun, type RunStats } from '../../shared/run-stats.js';
import { addFlags, pick, runCommand } from '../options.js';

function duration(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function line(r: RunStats): string {
  const p = progressOf(r);
  const state = p.complete ? 'complete' : r.enqueueFinishedAt ? 'running' : 'enqueueing';
  return [
    r.runId.padEnd(28), state.padEnd(10),
    `queued ${r.enqueued}`, `done ${r.done}`, `failed ${r.failed}`, r.rejected ? `rejected lines ${r.rejected}` : '',
    `remaining ${p.remaining}`, `${p.rate.toFixed(1)} docs/s`, `ETA ${p.complete ? '—' : duration(p.etaSeconds)}`,
  ].filter(Boolean).join('  ');
}

const statusSchema = schemaOf({ ...STATUS, json: REPORT.json });

export function statusCommand(): Command {
  const cmd = new Command('status')
    .description('Show runs of a queue from Redis: documents queued, done, failed, rate and ETA (counts are at least once: a job redone after a crash counts twice)')
    .addHelpText('after', '\nWithout --queue (or RB_QUEUE), a `roberta-batch run` in progress is shown (each run scores on a queue of its own); else the default queue.');
  addFlags(cmd, { ...STATUS, json: REPORT.json, ...CONNECTION });
  cmd.action((opts: Record<string, unknown>) =>
    runCommand(async () => {
      const own = parseConfig(statusSchema, pick(opts, { ...STATUS, json: REPORT.json }));
      const given = pick(opts, CONNECTION);
      let c = parseConfig(connectionSchema, given);
      await waitForRedis(c.redisUrl, c.redisWaitMs ?? REDIS_WAIT_MS.status);
      const redis = connect(c.redisUrl);
      await redis.connect();
      // No queue named: a `run` in progress (each uses a queue of its own) is what the user means.
      const queueNamed = givenFields(connectionSchema, given).has('queue');
      const active = queueNamed ? [] : (await listActiveRuns(redis, c.prefix)).filter((r) => !own.run || r.runId === own.run);
      if (active.length > 0) {
        c = { ...c, queue: active[0].queue };
        if (!own.json) {
          const others = active.slice(1).map((r) => `${r.runId} (--queue ${r.queue})`);
          process.stdout.write(`run ${active[0].runId} in progress${others.length ? `; also running: ${others.join(', ')}` : ''}\n`);
        }
      }
      const q = new Queue(c.queue, { connection: bullConnection(c.redisUrl), prefix: c.prefix });
      try {
        const runs = own.run ? [await readRun(redis, c.prefix, c.queue, own.run)].filter((r): r is RunStats => !!r) : await listRuns(redis, c.prefix, c.queue);
        if (own.run && !runs.length) throw E.CONFIG(`no run ${own.run} on queue ${c.queue}`, { hint: 'run `roberta-batch status` to list the runs' });
        const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        if (own.json) {
          process.stdout.write(`${JSON.stringify({ queue: c.queue, jobs: counts, runs: runs.map((r) => ({ ...r, ...progressOf(r) })) }, null, 2)}\n`);
          return;
        }
        process.stdout.write(`queue ${c.queue}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
        process.stdout.write(runs.length ? `${runs.map(line).join('\n')}\n` : 'no runs recorded (runs are recorded by `enqueue` and `run`)\n');
      } finally {
        await q.close();
        redis.disconnect();
      }
    }),
  );
  return cmd;
}
