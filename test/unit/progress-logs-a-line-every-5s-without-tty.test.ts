import { expect, test } from 'vitest';
import { Progress } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 120, write: (s: string) => { chunks.push(s); return true; } } };
}

test('off a TTY, Progress writes one plain line per 5 s with count, rate and ETA', () => {
  let now = 0;
  const { chunks, stream } = fakeStream(false);
  const p = new Progress({ label: 'model.onnx', unit: 'bytes', total: 100 * 1024 * 1024, stream, now: () => now });

  for (let t = 0; t <= 12_000; t += 100) {
    now = t;
    p.update(t * 1024); // 1 KiB per ms = 1000 KiB/s
  }
  p.finish();

  const lines = chunks.join('').split('\n').filter(Boolean);
  expect(lines).toHaveLength(3); // at 5 s, at 10 s, and the final line
  expect(lines[0]).toMatch(/^model\.onnx: 4\.88 MiB \/ 100\.0 MiB \(4\.9%\)  \d+(\.\d+)? KiB\/s  ETA 1:\d\d$/);
  expect(lines[2]).toMatch(/^model\.onnx: done, 11\.\d+ MiB in 0:12 \(\d+(\.\d+)? KiB\/s\)$/);
  expect(chunks.join('')).not.toContain('\r');
});

test('on a TTY, Progress redraws a bar in place and ends with a newline', () => {
  let now = 0;
  const { chunks, stream } = fakeStream(true);
  const p = new Progress({ label: 'docs', unit: 'docs', total: 1000, stream, now: () => now });

  for (let i = 1; i <= 1000; i++) {
    now = i * 2;
    p.update(i);
  }
  p.finish();

  expect(chunks.length).toBeGreaterThan(5);
  expect(chunks.length).toBeLessThan(40); // throttled to one redraw per 100 ms
  expect(chunks.every((c) => c.startsWith('\r'))).toBe(true);
  expect(chunks.join('')).toMatch(/\[#+\.*\]/);
  expect(chunks.at(-1)).toMatch(/docs: done, 1,000 docs in 0:02 \(.* docs\/s\)\s*\n$/);
});
