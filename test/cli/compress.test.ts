import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_FASHION_MNIST_DIR } from '../../src/data/index.js';
import { openRunStore } from '../../src/store/index.js';
import { loadModelArtifact, saveModelArtifact } from '../../src/trainer/model-artifacts.js';
import { buildMobilenet, type MobilenetArch } from '../../search-spaces/mobilenet/index.js';
import { runCli } from '../helpers/run-cli.js';

const ARCH: MobilenetArch = { width: 0.5, stages: Array.from({ length: 5 }, (_, i) => ({ layers: 1 as const, expand: 3 as const, kernel: 3 as const, se: i === 1, skip: 'none' as const })) };
// The shape Fashion-MNIST's loader gives (height, width, channels), as the search's models are built for it.
const TASK = { kind: 'image', dataset: 'fashion-mnist', inputShape: [28, 28, 1], numClasses: 10 } as const;

/** A stored run as a tiny proxy search leaves it: settings, two complete trials on the front with their models, one failed trial. */
async function fixtureRun(db: string, options: { withModels?: boolean; table?: boolean } = {}): Promise<{ runId: number; trialIds: number[]; failedId: number }> {
  const store = await openRunStore(db, { mode: 'create' });
  try {
    const proxy = {
      epochs: 1, trainSubset: 64, batchSize: 16, optimizer: 'adam', learningRate: 3e-3, validationSubset: 20, testSubset: 20,
      pruneMargin: null, latencyBatch: 4, backend: 'auto', energy: { meter: 'estimate' },
    };
    const run = await store.createRun({
      space: options.table ? 'nasbench201' : 'mobilenet', spaceVersion: '1', dataset: 'fashion-mnist', strategy: 'random', seed: 1, budget: 3,
      objectives: ['accuracy.val', 'latency.cpu'], versions: {}, backend: 'wasm', host: 'test',
      settings: { space: 'mobilenet', dataset: 'fashion-mnist', objectives: ['accuracy.val', 'latency.cpu'], reward: 'pareto', alpha: -0.07, beta: -0.07, strategy: 'random', trials: 3, seed: 1, ...(options.table ? {} : { proxy }) },
    });
    const trialIds: number[] = [];
    for (const seq of [0, 1]) {
      const t = await store.startTrial(run.id, { seq, key: `k${seq}`, arch: ARCH });
      await store.finishTrial(t.id, {
        state: 'complete', durationMs: 1, tellSeq: seq,
        metrics: [
          { name: 'accuracy.val', value: 0.5 + seq / 10, unit: 'fraction', source: 'measured' }, { name: 'latency.cpu', value: 2 - seq, unit: 'ms', source: 'measured' },
          { name: 'energy.train', value: 40 + seq, unit: 'J', source: 'estimated' }, { name: 'train.seconds', value: 3, unit: 's', source: 'measured' },
        ],
      });
      if (options.withModels !== false) {
        const model = buildMobilenet(ARCH, TASK, { seed: seq + 1 });
        await store.saveModel(t.id, await saveModelArtifact(model));
        model.dispose();
      }
      trialIds.push(t.id);
    }
    const failed = await store.startTrial(run.id, { seq: 2, key: 'k2', arch: ARCH });
    await store.finishTrial(failed.id, { state: 'failed', durationMs: 1, tellSeq: 2, error: { name: 'TrialError', message: 'pruned' } });
    await store.setFront(run.id, trialIds);
    return { runId: run.id, trialIds, failedId: failed.id };
  } finally {
    await store.close();
  }
}

const tmp = () => mkdtempSync(join(tmpdir(), 'greennas-compress-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('compress: bad input exits 2 naming the problem, before anything trains', () => {
  let db: string;
  let ids: { runId: number; trialIds: number[]; failedId: number };
  beforeAll(async () => {
    db = join(tmp(), 'r.db');
    ids = await fixtureRun(db);
  });

  it.each([
    [['--steps', 'prune', '--sparsity', '1'], /--sparsity must be a fraction in \[0, 1\)/],
    [['--steps', 'prune', '--sparsity', '-0.2'], /--sparsity/],
    [['--steps', 'prune', '--sparsity', 'half'], /--sparsity must be a number/],
    [['--steps', 'shrink'], /--steps: 'shrink' is not a step/],
    [['--steps', 'prune,prune'], /names a step twice/],
    [[], /--steps is required/],
    [['--steps', 'quantize,prune'], /quantize must be the last step/],
    [['--steps', 'fold,distill'], /fold must come after prune and distill/],
    [['--steps', 'prune', '--prune', 'random'], /--prune must be magnitude or channels/],
    [['--steps', 'prune', '--prune', 'magnitude', '--drop-gates'], /--drop-gates removes whole modules and goes with --prune channels/],
    [['--steps', 'prune', '--prune', 'magnitude', '--channel-multiple', '8'], /--channel-multiple .* goes with --prune channels/],
    [['--steps', 'prune', '--channel-multiple', '0'], /--channel-multiple must be a positive whole number/],
    [['--steps', 'distill', '--drop-gates'], /--drop-gates applies to the prune step/],
    [['--steps', 'quantize', '--quantize', 'int4'], /--quantize must be fp16 or int8/],
    [['--steps', 'distill', '--temperature', '0'], /--temperature must be a positive number/],
    [['--steps', 'distill', '--alpha', '2'], /--alpha must be a fraction in \[0, 1\]/],
    [['--steps', 'prune', '--alpha', '0.5'], /--alpha applies to the distill step/],
    [['--steps', 'prune', '--epochs', '0'], /--epochs must be a positive whole number/],
    [['--steps', 'prune', '--trials', '999'], /run \d+ has no trial 999/],
    [['--steps', 'prune', '--trials', 'x'], /--trials: 'x' is not a trial id/],
  ])('%j', (flags, pattern) => {
    const r = runCli(['compress', String(ids.runId), ...(flags as string[]), '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(pattern as RegExp);
    expect(r.stdout).toBe('');
  });

  it('names an unknown run, a failed trial, a table run and a run without stored models', async () => {
    expect(runCli(['compress', '42', '--steps', 'prune', '--db', db]).stderr).toMatch(/RUN_ID 42: no such run/);
    expect(runCli(['compress', String(ids.runId), '--steps', 'prune', '--trials', String(ids.failedId), '--db', db]).stderr).toMatch(/that trial is failed/);
    const tableDb = join(tmp(), 't.db');
    const table = await fixtureRun(tableDb, { table: true });
    const t = runCli(['compress', String(table.runId), '--steps', 'prune', '--db', tableDb]);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/no trained models to compress/);
    const bareDb = join(tmp(), 'b.db');
    const bare = await fixtureRun(bareDb, { withModels: false });
    const b = runCli(['compress', String(bare.runId), '--steps', 'prune', '--db', bareDb]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/has no trained model stored/);
  });
});

// Compression loads the run's own dataset split, so this needs the real files (Debian's dataset-fashion-mnist).
describe.runIf(existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz')))('compress end to end on a tiny run', () => {
  let db: string;
  let ids: { runId: number; trialIds: number[] };
  beforeAll(async () => {
    db = join(tmp(), 'r.db');
    ids = await fixtureRun(db);
  });
  afterAll(() => undefined);

  it('channel-prunes, fine-tunes and fp16-rounds one trial, stores it linked to its parent with its model, and prints the comparison', async () => {
    const r = runCli(['compress', String(ids.runId), '--trials', String(ids.trialIds[0]), '--steps', 'prune,quantize', '--quantize', 'fp16', '--sparsity', '0.5', '--db', db, '--json'], { timeoutMs: 300_000 });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { parentTrialId: number; trialId: number; metrics: Record<string, number>; parentMetrics: Record<string, number>; provenance: Record<string, { source: string; detail?: Record<string, unknown> }> }[] };
    expect(out.results).toHaveLength(1);
    const [res] = out.results;
    expect(res!.parentTrialId).toBe(ids.trialIds[0]);
    expect(res!.metrics['params']).toBeLessThan(0.75 * res!.parentMetrics['params']!);
    expect(res!.metrics['macs']).toBeLessThan(0.75 * res!.parentMetrics['macs']!);
    // Fewer weights at half the bytes each; the topology JSON, a large share of a model this small, stays.
    expect(res!.metrics['size.bytes']).toBeLessThan(0.75 * res!.parentMetrics['size.bytes']!);
    expect(res!.provenance['energy.infer']?.source).toBe('estimated');
    expect(res!.provenance['latency.cpu']?.detail).toMatchObject({ batchSize: 1 });
    expect(res!.provenance['accuracy']?.detail?.['parent']).toBe(res!.parentMetrics['accuracy']);
    // What producing it cost: the fine-tuning pass metered, added to the parent's own training.
    expect(res!.metrics['energy.compress']).toBeGreaterThan(0);
    expect(res!.provenance['energy.compress']?.source).toBe('estimated');
    expect(res!.provenance['energy.train']?.detail).toMatchObject({ parentJ: expect.any(Number), compressJ: res!.metrics['energy.compress'] });
    const parentJ = res!.provenance['energy.train']!.detail!['parentJ'] as number;
    expect(parentJ).toBe(40);
    expect(res!.metrics['energy.train']).toBeCloseTo(parentJ + res!.metrics['energy.compress']!, 6);
    expect(res!.metrics['train.seconds']).toBeGreaterThan(res!.metrics['compress.seconds']!);

    const store = await openRunStore(db, { mode: 'existing' });
    try {
      const t = await store.getTrial(res!.trialId);
      expect(t).toMatchObject({ kind: 'compressed', parentTrialId: ids.trialIds[0], state: 'complete' });
      expect(t!.steps!.map((s) => s.name)).toEqual(['prune', 'quantize']);
      expect(t!.steps![0]!.detail).toMatchObject({ channelSparsity: expect.any(Number) });
      // The front is the search's: a compressed trial never joins it.
      expect(await store.getFrontIds(ids.runId)).toEqual(ids.trialIds);
      const artifact = await store.getModel(res!.trialId);
      expect((artifact!.weightSpecs as { quantization?: { dtype: string } }[]).every((s) => s.quantization?.dtype === 'float16')).toBe(true);
      const model = await loadModelArtifact(artifact!);
      expect(model.countParams()).toBeGreaterThan(res!.metrics['params']!); // plus batch-norm statistics
      model.dispose();
    } finally {
      await store.close();
    }

    // The table form: one row per compressed model, parent → compressed.
    const table = runCli(['compress', String(ids.runId), '--trials', String(ids.trialIds[1]), '--steps', 'prune', '--prune', 'magnitude', '--sparsity', '0.6', '--db', db], { timeoutMs: 300_000 });
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/parent\s+trial\s+steps\s+accuracy %/);
    expect(table.stdout).toMatch(/prune:magnitude@0\.6/);
    expect(table.stdout).toMatch(/estimated energy/);
  }, 600_000);

  it('quantizes to INT8 in ONNX Runtime and compares it with the float parent in the same runtime', () => {
    const r = runCli(['compress', String(ids.runId), '--trials', String(ids.trialIds[1]), '--steps', 'fold,quantize', '--quantize', 'int8', '--db', db, '--json'], { timeoutMs: 300_000 });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    const [res] = (JSON.parse(r.stdout) as { results: { steps: { name: string; detail: Record<string, unknown> }[]; metrics: Record<string, number>; parentOnnxFloat32Metrics: Record<string, number>; provenance: Record<string, { detail?: Record<string, unknown> }> }[] }).results;
    expect(res!.steps.map((s) => s.name)).toEqual(['fold', 'quantize']);
    expect(res!.steps[1]!.detail).toMatchObject({ format: 'QDQ', calibrationSplit: 'validation' });
    expect(res!.provenance['latency.cpu']?.detail).toMatchObject({ runtime: 'onnxruntime-node', onnxFloat32: res!.parentOnnxFloat32Metrics['latency.cpu'] });
    // The size is the INT8 ONNX file's (on models this small the QDQ graph's own nodes outweigh the 4× smaller weights).
    expect(res!.provenance['size.bytes']?.detail).toMatchObject({ format: 'onnx', weights: 'int8', onnxFloat32: res!.parentOnnxFloat32Metrics['size.bytes'] });
    expect(Math.abs(res!.metrics['accuracy']! - res!.parentOnnxFloat32Metrics['accuracy']!)).toBeLessThanOrEqual(0.15);
  }, 300_000);
});
