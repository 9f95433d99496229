import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_FASHION_MNIST_DIR } from '../../src/data/index.js';
import { repoRoot, runCli } from '../helpers/run-cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'greennas-proxy-'));
const PROBE = join(repoRoot, 'test', 'fixtures', 'trainer', 'probe-space.mjs');

describe('proxy-training flags: bad input exits 2 naming the flag, before any run is stored', () => {
  const db = join(tmp(), 'none.db');
  it.each([
    [['--epochs', '0'], /--epochs must be a positive whole number/],
    [['--epochs', 'two'], /--epochs.*'two'/],
    [['--train-subset', '-3'], /--train-subset/],
    [['--max-steps', '1.5'], /--max-steps/],
    [['--batch-size', 'x'], /--batch-size/],
    [['--learning-rate', '-1'], /--learning-rate must be a positive number/],
    [['--optimizer', 'rmsprop'], /--optimizer must be adam or sgd/],
    [['--workers', '0'], /--workers must be a whole number/],
    [['--test-subset', 'none'], /--test-subset/],
    [['--prune-margin', '2'], /--prune-margin must be a fraction/],
    [['--latency-batch', '0'], /--latency-batch/],
    [['--backend', 'tpu'], /--backend must be auto or one of/],
    [['--meter', 'magic'], /--meter 'magic'/],
  ])('search %j', (flags, pattern) => {
    const r = runCli(['search', '--space', 'mobilenet', ...(flags as string[]), '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(pattern as RegExp);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(existsSync(db)).toBe(false);
  });

  it('rejects proxy flags on a table space', () => {
    const r = runCli(['search', '--space', 'nasbench201', '--epochs', '2', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--epochs only applies to spaces that are trained/);
  });

  it.each([
    [['--arch', 'not-a-file'], /--arch 'not-a-file' is neither JSON nor an existing file/],
    [['--arch', '{"width": 2}'], /width must be one of/],
    [['--arch', '{bad'], /--arch: not valid JSON/],
    [['--space', 'nasbench201', '--arch', '"x"'], /--space nasbench201 is not a trained space/],
  ])('train %j', (flags, pattern) => {
    const r = runCli(['train', ...(flags as string[])]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(pattern as RegExp);
  });
});

// The CLI verifies the official checksums, so this runs on the real files (Debian's dataset-fashion-mnist).
describe.runIf(existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz')))('a proxy search through the CLI', () => {
  it('runs a search on a plug-in space, and train reports a NaN loss as an error and a healthy net as metrics', () => {
    const dir = tmp();
    const db = join(dir, 'r.db');
    // The probe space's sampler only proposes healthy nets, so the failing ones are trained through `train` below.
    const common = ['--space', PROBE, '--train-subset', '64', '--epochs', '1', '--batch-size', '16', '--validation-subset', '20', '--test-subset', '20', '--workers', '1', '--meter', 'estimate'];
    const r = runCli(['search', ...common, '--trials', '2', '--strategy', 'random', '--seed', '3', '--db', db, '--json']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { trials: number; failed: number; front: { metrics: Record<string, number> }[] };
    expect(out.trials).toBe(2);
    expect(out.front.length).toBeGreaterThan(0);
    for (const f of out.front) {
      expect(f.metrics['accuracy.val']).toBeGreaterThanOrEqual(0);
      expect(f.metrics['latency.cpu']).toBeGreaterThan(0);
      expect(f.metrics['energy.train']).toBeGreaterThan(0);
    }
    const nan = runCli(['train', ...common, '--arch', '{"mode":"nan","units":4}', '--json']);
    expect(nan.status).not.toBe(0);
    expect(nan.stderr).toMatch(/loss became NaN/);
    const ok = runCli(['train', ...common, '--arch', '{"mode":"ok","units":4}', '--json']);
    expect(ok.status).toBe(0);
    const trained = JSON.parse(ok.stdout) as { metrics: { name: string; unit: string; source: string }[] };
    expect(trained.metrics.find((m) => m.name === 'energy.train')?.source).toBe('estimated');
  }, 300_000);
});
