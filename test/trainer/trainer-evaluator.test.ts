import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { TrialError } from '../../src/core/index.js';
import { TrainerEvaluator, type TrainerEvaluatorOptions } from '../../src/trainer/trainer-evaluator.js';
import { shouldPrune } from '../../src/trainer/proxy-trial.js';
import { scheduledLearningRate, splitAccuracy } from '../../src/trainer/proxy-training.js';
import { loadModelArtifact } from '../../src/trainer/model-artifacts.js';
import { validFixture, writeFixture } from '../fixtures/data/idx-fixtures.js';
import { repoRoot } from '../helpers/run-cli.js';

// Workers import compiled modules (the test command runs tsc first), so the spaces are given by their dist paths.
const PROBE_SPACE = join(repoRoot, 'test', 'fixtures', 'trainer', 'probe-space.mjs');
const MOBILENET = join(repoRoot, 'dist', 'search-spaces', 'mobilenet', 'index.js');

let dataDir: string;

function options(spaceModule: string, extra: Partial<TrainerEvaluatorOptions> = {}): TrainerEvaluatorOptions {
  return {
    spaceModule,
    dataset: 'fashion-mnist',
    datasetOptions: { seed: 1, dataDir, verifyChecksums: false, validationSize: 40 },
    workers: 1,
    settings: {
      backend: 'auto',
      budget: { epochs: 1, batchSize: 32, optimizer: 'adam', learningRate: 3e-3, seed: 1 },
      latencyBatch: 4,
      latencyWarmupRuns: 1,
      latencyTimedRuns: 3,
      energy: { meter: 'estimate' },
    },
    ...extra,
  };
}

const info = (seq: number) => ({ runId: 1, seq, key: `k${seq}` });

beforeAll(() => {
  dataDir = writeFixture(validFixture(200, 40));
});

describe('TrainerEvaluator on the probe space', () => {
  let ev: TrainerEvaluator;
  beforeAll(async () => {
    ev = await TrainerEvaluator.create(options(PROBE_SPACE));
  });
  afterAll(async () => {
    await ev?.close();
  });

  it('returns every metric with unit and source, and holds no more tensors after a trial than before it', async () => {
    const counts: number[][] = [];
    for (const units of [4, 8, 4]) {
      const r = await ev.evaluateDetailed({ mode: 'ok', units }, `leak-${units}`);
      counts.push([r.numTensorsBefore, r.numTensorsAfter]);
      const names = r.metrics.map((m) => m.name);
      for (const n of ['accuracy', 'accuracy.val', 'latency.cpu', 'latency.cpu.b4', 'energy.train', 'energy.infer', 'params', 'macs', 'train.seconds']) expect(names).toContain(n);
      for (const m of r.metrics) {
        expect(m.unit).toBeTruthy();
        expect(['measured', 'computed', 'estimated', 'counter', 'polled']).toContain(m.source);
        expect(Number.isFinite(m.value)).toBe(true);
      }
      expect(r.metrics.find((m) => m.name === 'energy.train')?.source).toBe('estimated');
      const acc = r.metrics.find((m) => m.name === 'accuracy')!.value;
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(1);
    }
    for (const [before, after] of counts) expect(after).toBe(before);
    // The same worker across trials: the count it starts from does not grow either.
    expect(new Set(counts.map(([b]) => b)).size).toBe(1);
  });

  it('fails a trial whose loss is NaN with E_NAN_LOSS, and the next trial still runs', async () => {
    const err = await ev.evaluate({ mode: 'nan', units: 4 }, info(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrialError);
    expect((err as TrialError).code).toBe('E_NAN_LOSS');
    expect((err as Error).message).toMatch(/loss became NaN/);
    const ok = await ev.evaluate({ mode: 'ok', units: 8 }, info(2));
    expect(ok.metrics.length).toBeGreaterThan(5);
  });

  it('keeps the name, code and message of an error thrown in the worker', async () => {
    const err = (await ev.evaluate({ mode: 'throw', units: 4 }, info(3)).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.message).toBe('probe space refuses to build');
    expect(err.code).toBe('E_PROBE');
    expect(err.name).toBe('Error');
  });

  it('fails a trial whose worker exits, replaces the worker and goes on', async () => {
    const err = (await ev.evaluate({ mode: 'exit', units: 4 }, info(4)).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('E_WORKER_DIED');
    const ok = await ev.evaluate({ mode: 'ok', units: 4 }, info(5));
    expect(ok.model?.format).toBe('tfjs-layers');
    expect(ok.worker).toMatch(/^thread-\d+\/(wasm|cpu|tfjs-node|tfjs-node-gpu)$/);
  });
});

describe('TrainerEvaluator on the mobilenet space', () => {
  it('trains a sampled network end to end on a tiny subset', async () => {
    const ev = await TrainerEvaluator.create(options(MOBILENET, { testSubset: 20, datasetOptions: { seed: 1, dataDir, verifyChecksums: false, validationSize: 40, trainSubset: 64 } }));
    try {
      const arch = { width: 0.5, stages: Array.from({ length: 5 }, () => ({ layers: 1, expand: 1, kernel: 3, se: false, skip: 'none' })) };
      const r = await ev.evaluateDetailed(arch, 'mobilenet');
      const m = Object.fromEntries(r.metrics.map((x) => [x.name, x]));
      expect(m['params']?.source).toBe('computed');
      expect(m['params']?.value).toBeGreaterThan(1000);
      expect(m['latency.cpu']?.unit).toBe('ms');
      expect(m['latency.cpu']?.value).toBeGreaterThan(0);
      expect(m['accuracy']?.detail).toMatchObject({ split: 'test', samples: 20 });
      expect(r.curve.length).toBeGreaterThanOrEqual(1);
      expect(r.numTensorsAfter).toBe(r.numTensorsBefore);
      // The trained model comes back as plain data, and rebuilt here it scores what the worker measured.
      expect(r.model.format).toBe('tfjs-layers');
      expect(r.model.weightData.byteLength).toBe(4 * (r.model.weightSpecs as { shape: number[] }[]).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0));
      const loaded = await loadModelArtifact(r.model);
      try {
        expect(splitAccuracy(loaded, ev.data.test, ev.data.task.inputShape)).toBe(m['accuracy']?.value);
      } finally {
        loaded.dispose();
      }
    } finally {
      await ev.close();
    }
  });
});

describe('dominance pruning and the schedule', () => {
  const rule = { front: [{ valAccuracy: 0.8, costs: { 'latency.cpu': 2, 'energy.train': 10 } }], costMetrics: ['latency.cpu', 'energy.train'], margin: 0.1 };

  it('prunes only a proxy beaten by margin on accuracy by a front member no worse in every cost', () => {
    expect(shouldPrune(rule, 0.6, { 'latency.cpu': 3, 'energy.train': 12 })).toBe(true);
    expect(shouldPrune(rule, 0.75, { 'latency.cpu': 3, 'energy.train': 12 })).toBe(false); // within the margin
    expect(shouldPrune(rule, 0.6, { 'latency.cpu': 1, 'energy.train': 12 })).toBe(false); // faster than the front member
    expect(shouldPrune(rule, 0.6, { 'latency.cpu': 3, 'energy.train': undefined })).toBe(false); // a cost not known yet
    expect(shouldPrune({ ...rule, front: [] }, 0.1, { 'latency.cpu': 3, 'energy.train': 12 })).toBe(false);
  });

  it('warms up linearly then decays to zero', () => {
    expect(scheduledLearningRate(1, 0, 100)).toBeCloseTo(0.2);
    expect(scheduledLearningRate(1, 4, 100)).toBeCloseTo(1);
    expect(scheduledLearningRate(1, 99, 100)).toBeLessThan(0.01);
  });
});
