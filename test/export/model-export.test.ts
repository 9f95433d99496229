import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/core/index.js';
import { exportModels, type ExportManifest, type ExportRequest } from '../../src/export/index.js';
import { SqliteRunStore, type RunStore } from '../../src/store/index.js';
import { saveModelArtifact } from '../../src/trainer/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'greennas-model-export-'));

function tinyModel(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [6], name: 'x' });
  const h = tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'h' }).apply(input) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), name: 'y' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

/** A run with two complete trials (one with a stored model), one failed trial, and a front of the first. */
async function storeWithModels(): Promise<{ store: RunStore; runId: number; withModel: number; noModel: number; failed: number; emptyRun: number }> {
  const store = SqliteRunStore.open(':memory:');
  const run = await store.createRun({ space: 'tiny', spaceVersion: '1', dataset: 'toy', strategy: 'random', seed: 1, budget: 3, objectives: ['accuracy'], settings: {}, versions: {}, backend: 'cpu', host: 'h' });
  const metrics = [{ name: 'accuracy', value: 0.5, unit: 'fraction', source: 'measured' as const, detail: { split: 'test' } }];
  const a = await store.startTrial(run.id, { seq: 0, key: 'a', arch: { units: 5 } });
  const b = await store.startTrial(run.id, { seq: 1, key: 'b', arch: { units: 7 } });
  const c = await store.startTrial(run.id, { seq: 2, key: 'c', arch: { units: 9 } });
  await store.finishTrial(a.id, { state: 'complete', metrics, durationMs: 1, tellSeq: 0 }, { runId: run.id, trialIds: [a.id] });
  await store.finishTrial(b.id, { state: 'complete', metrics, durationMs: 1, tellSeq: 1 });
  await store.finishTrial(c.id, { state: 'failed', error: { name: 'TrialError', message: 'x' }, durationMs: 1, tellSeq: 2 });
  const model = tinyModel(3);
  await store.saveModel(a.id, await saveModelArtifact(model));
  model.dispose();
  const empty = await store.createRun({ space: 'grid', spaceVersion: '1', dataset: 'toy', strategy: 'random', seed: 1, budget: 1, objectives: ['accuracy'], settings: {}, versions: {}, backend: 'table', host: 'h' });
  const e = await store.startTrial(empty.id, { seq: 0, key: 'e', arch: 1 });
  await store.finishTrial(e.id, { state: 'complete', metrics, durationMs: 1, tellSeq: 0 }, { runId: empty.id, trialIds: [e.id] });
  return { store, runId: run.id, withModel: a.id, noModel: b.id, failed: c.id, emptyRun: empty.id };
}

async function refusal(store: RunStore, req: ExportRequest): Promise<UserError> {
  const err = await exportModels(store, req).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('exportModels', () => {
  it('writes tfjs files of the front with a manifest, loadable by tf.loadLayersModel to the same predictions', async () => {
    const { store, runId, withModel } = await storeWithModels();
    const run = (await store.getRun(runId))!;
    const out = join(tmp(), 'out');
    const [e, ...rest] = await exportModels(store, { run, format: 'tfjs', int8: false, outDir: out, force: false });
    expect(rest).toHaveLength(0);
    expect(e?.trialId).toBe(withModel);
    expect(readdirSync(e!.dir).sort()).toEqual(['group1-shard1of1.bin', 'manifest.json', 'model.json']);
    const json = JSON.parse(readFileSync(join(e!.dir, 'model.json'), 'utf8')) as { format: string; modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0]?.paths).toEqual(['group1-shard1of1.bin']);
    const bin = readFileSync(join(e!.dir, 'group1-shard1of1.bin'));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }));
    const original = tinyModel(3);
    const x = tf.tensor2d([[1, -2, 3, 0.5, 0, 4], [0.1, 0.2, -0.3, 2, 1, -1]]);
    const [p, q] = [loaded.predict(x) as tf.Tensor, original.predict(x) as tf.Tensor];
    expect(Array.from(p.dataSync())).toEqual(Array.from(q.dataSync()));
    tf.dispose([x, p, q]);
    loaded.dispose();
    original.dispose();
    const manifest = JSON.parse(readFileSync(join(e!.dir, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(manifest).toMatchObject({ manifestVersion: 1, run: { id: runId, space: 'tiny', backend: 'cpu' }, trial: { id: withModel, kind: 'search', seq: 0 }, arch: { units: 5 }, steps: [] });
    expect(manifest.metrics).toEqual([{ name: 'accuracy', value: 0.5, unit: 'fraction', source: 'measured', detail: { split: 'test' } }]);
    expect(manifest.versions.greennas).toBeTruthy();
    expect(manifest.checks).toEqual([{ name: 'tfjs files reload to the same predictions', passed: true, detail: { samples: 32, input: 'seeded uniform [0, 1)', maxAbsLogitDiff: 0 } }]);
    await store.close();
  });

  it('refuses, before writing anything: unknown trials, trials without a model, a run without models, --int8 with tfjs, a busy --out', async () => {
    const { store, runId, noModel, failed, emptyRun, withModel } = await storeWithModels();
    const run = (await store.getRun(runId))!;
    const dir = tmp();
    const out = join(dir, 'out');
    const base: ExportRequest = { run, format: 'tfjs', int8: false, outDir: out, force: false };
    expect((await refusal(store, { ...base, trialIds: [withModel, 4242] })).message).toMatch(/^--trials 4242: no such trial in run \d+\. Fix:/);
    expect((await refusal(store, { ...base, trialIds: [noModel] })).message).toMatch(/^--trials: trial \d+ \(complete, but no model was stored\) has no stored model/);
    expect((await refusal(store, { ...base, trialIds: [failed] })).message).toMatch(/\(failed\) has no stored model/);
    const noModels = await refusal(store, { ...base, run: (await store.getRun(emptyRun))! });
    expect(noModels.subject).toBe('RUN_ID');
    expect(noModels.message).toMatch(/has no trained models to export \(space grid on backend table: benchmark-table lookups train nothing\)\. Fix:/);
    expect((await refusal(store, { ...base, int8: true })).subject).toBe('--int8');
    expect(existsSync(out)).toBe(false);
    mkdirSync(out);
    writeFileSync(join(out, 'x'), '1');
    expect((await refusal(store, base)).message).toMatch(/^--out .* exists and is not empty/);
    const file = join(dir, 'file');
    writeFileSync(file, '');
    expect((await refusal(store, { ...base, outDir: file, force: true })).message).toMatch(/is a file, not a folder/);
    expect(readdirSync(out)).toEqual(['x']);
    await store.close();
  });
});
