/**
 * A crashed worker process is restarted after 1, 2, 4 ... 30 s; a process
 * that stayed ready for a minute starts the backoff over; one that keeps failing before it is
 * ready is given up on (exit 1), and an E_CONFIG exit (2) before ready is never retried.
 */
import { expect, it } from 'vitest';
import { RestartPolicy } from '../../src/supervisor/restart-policy.js';

const crash = (readyForMs: number | undefined, code: number | null = null) => ({ code, signal: code === null ? ('SIGKILL' as const) : null, readyForMs });

it('doubles the delay per crash in a row up to 30 s', () => {
  const p = new RestartPolicy({ baseMs: 1_000, maxStartFailures: 5 });
  const delays = Array.from({ length: 7 }, () => p.onExit(crash(5_000))).map((d) => (d.action === 'restart' ? d.delayMs : -1));
  expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
});

it('starts over after the process was ready for 60 s', () => {
  const p = new RestartPolicy({ baseMs: 1_000, maxStartFailures: 5 });
  p.onExit(crash(5_000));
  p.onExit(crash(5_000));
  expect(p.onExit(crash(60_000))).toMatchObject({ action: 'restart', delayMs: 1_000 });
});

it('gives up with exit 1 after N failures in a row before ready, counting only consecutive ones', () => {
  const p = new RestartPolicy({ baseMs: 100, maxStartFailures: 3 });
  expect(p.onExit(crash(undefined, 1)).action).toBe('restart');
  expect(p.onExit(crash(undefined, 1)).action).toBe('restart');
  expect(p.onExit(crash(2_000)).action).toBe('restart'); // it was ready once: the count restarts
  expect(p.onExit(crash(undefined, 1)).action).toBe('restart');
  expect(p.onExit(crash(undefined, 1)).action).toBe('restart');
  expect(p.onExit(crash(undefined, 1))).toMatchObject({ action: 'give-up', exitCode: 1 });
});

it('gives up at once with exit 2 when the process reports invalid configuration before ready', () => {
  const p = new RestartPolicy({ baseMs: 100, maxStartFailures: 5 });
  expect(p.onExit(crash(undefined, 2))).toMatchObject({ action: 'give-up', exitCode: 2 });
  // exit 2 after it was ready is not a configuration error: restart
  expect(new RestartPolicy({ baseMs: 100, maxStartFailures: 5 }).onExit(crash(1_000, 2)).action).toBe('restart');
});
